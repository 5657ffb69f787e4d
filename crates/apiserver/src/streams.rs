//! The pods' streams: `pods/log`, `pods/exec`, `pods/attach`. The server
//! checks the request (the pod exists, runs, has the container); whoever
//! runs the pods' processes ([`Pods`]) provides the process or its log.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response};
use palisade_apimachinery::status::Result;
use palisade_apimachinery::Status;
use serde_json::Value;

use crate::http::{Body, Target};
use crate::logs::{self, LogOptions};
use crate::route::Query;
use crate::session::{Attachment, Session};
use crate::websocket::{Streams, Upgrade};
use crate::Server;

/// A future that completes when a pod's process has ended.
pub type Ended = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The pods' processes, as the node runs them.
pub trait Pods: Send + Sync {
    /// The log file of the pod's container, and a future that completes
    /// when its process has ended (a followed log then ends).
    fn log(&self, pod: &Value, container: &str) -> Result<(PathBuf, Ended)>;
    /// Starts `command` in the pod's container, with a TTY or with pipes.
    fn exec(&self, pod: &Value, container: &str, command: &[String], tty: bool) -> Result<Session>;
    /// Connects to the pod's running process (started with stdin or a TTY).
    fn attach(&self, pod: &Value, container: &str, stdin: bool) -> Result<Attachment>;
}

/// The container a request names, or the pod's only (or default) one.
fn container(pod: &Value, asked: Option<&str>) -> Result<String> {
    let names: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or("");
    match asked {
        Some(c) if names.contains(&c) => Ok(c.to_string()),
        Some(c) => Err(Status::bad_request(format!(
            "container {c} is not valid for pod {pod_name}"
        ))),
        None if names.len() == 1 => Ok(names[0].to_string()),
        None => {
            let default = pod
                .pointer("/metadata/annotations/kubectl.kubernetes.io~1default-container")
                .and_then(Value::as_str);
            default.map(str::to_string).ok_or_else(|| {
                Status::bad_request(format!(
                    "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                    names.join(" ")
                ))
            })
        }
    }
}

pub async fn serve(
    server: Arc<Server>,
    t: &Target,
    name: &str,
    sub: &str,
    query: Query,
    mut req: Request<Incoming>,
) -> Result<Response<Body>> {
    let pods = server
        .pods
        .clone()
        .ok_or_else(|| Status::new(503, "ServiceUnavailable", "this server runs no pods"))?;
    let ns = t.namespace.clone().unwrap_or_default();
    let pod = server.api.get(t.kind, &ns, name)?;
    let container = container(&pod, query.get("container"))?;
    let raw_query = req.uri().query().unwrap_or("").to_string();
    match sub {
        "log" => {
            let opts = LogOptions::from_query(&raw_query)?;
            let (path, ended) = pods.log(&pod, &container)?;
            let body = logs::log_body(path, &opts, ended);
            let mut resp = Response::new(body.boxed());
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            Ok(resp)
        }
        "exec" | "attach" => {
            let phase = pod
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("");
            if matches!(phase, "Succeeded" | "Failed") {
                return Err(Status::bad_request(format!(
                    "cannot {sub} into a container in a completed pod; current phase is {phase}"
                )));
            }
            let upgrade = Upgrade::from_request(&mut req)?;
            let streams = Streams {
                stdin: query.flag("stdin"),
                stdout: query.get("stdout").is_none_or(|v| v == "true" || v == "1"),
                stderr: query.flag("stderr"),
                tty: query.flag("tty"),
            };
            if sub == "exec" {
                let command = query.all("command");
                if command.is_empty() {
                    return Err(Status::bad_request("you must specify at least 1 command"));
                }
                let session = pods.exec(&pod, &container, &command, streams.tty)?;
                Ok(upgrade.exec(session, streams))
            } else {
                let attachment = pods.attach(&pod, &container, streams.stdin)?;
                Ok(upgrade.attach(attachment, streams))
            }
        }
        _ => Err(Status::no_route()),
    }
}
