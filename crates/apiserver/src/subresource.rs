//! Subresources: `status` and `scale` (read and written like the object,
//! on a part of it), and the pods' streams, `log`, `exec`, `attach`,
//! served by whoever runs the pods' processes ([`Pods`]).

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use palisade_apimachinery::status::Result;
use palisade_apimachinery::{selector, Status};
use serde_json::{json, Value};

use crate::http::{json_reply, patch_type, patched, read_body, Body, Target};
use crate::route::Query;
use crate::Server;

pub use crate::streams::Pods;

pub async fn serve(
    server: Arc<Server>,
    t: Target,
    sub: &str,
    method: Method,
    query: Query,
    req: Request<Incoming>,
) -> Result<Response<Body>> {
    let name = t.name.clone().ok_or_else(Status::no_route)?;
    match sub {
        "status" => part(server, &t, &name, method, req, "status").await,
        "scale" => scale(server, &t, &name, method, req).await,
        "log" | "exec" | "attach" => {
            crate::streams::serve(server, &t, &name, sub, query, req).await
        }
        _ => Err(Status::no_route()),
    }
}

/// What a PUT (the whole new version) or a PATCH (applied to `current`)
/// of a subresource says.
fn sent_version(is_put: bool, kind: &str, current: &Value, ct: &str, body: &[u8]) -> Result<Value> {
    if is_put {
        serde_json::from_slice::<Value>(body).map_err(|e| Status::bad_request(e.to_string()))
    } else {
        patched(kind, true, current, body, patch_type(ct)?)
    }
}

/// `status`: GET returns the object; PUT and PATCH change only `status`.
async fn part(
    server: Arc<Server>,
    t: &Target,
    name: &str,
    method: Method,
    req: Request<Incoming>,
    field: &str,
) -> Result<Response<Body>> {
    let api = &server.api;
    let ns = t.namespace.clone().unwrap_or_default();
    match method {
        Method::GET => Ok(json_reply(
            StatusCode::OK,
            api.get(t.kind, &ns, name)?.as_ref(),
        )),
        Method::PUT | Method::PATCH => {
            let (ct, body) = read_body(req).await?;
            let kind = api.resource(t.kind).kind;
            let is_put = method == Method::PUT;
            let updated = api.modify(t.kind, &ns, name, false, |old| {
                let new = sent_version(is_put, kind, old, &ct, &body)?;
                let mut o = old.clone();
                o[field] = new.get(field).cloned().unwrap_or(Value::Null);
                Ok(o)
            })?;
            Ok(json_reply(StatusCode::OK, &updated))
        }
        _ => Err(Status::method_not_allowed("status: GET, PUT or PATCH")),
    }
}

/// The `autoscaling/v1` Scale of a workload.
fn scale_of(o: &Value) -> Value {
    let sel = selector::from_label_selector(o.pointer("/spec/selector").unwrap_or(&json!({})))
        .map(|s| s.to_string())
        .unwrap_or_default();
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": o["metadata"]["name"], "namespace": o["metadata"]["namespace"],
                     "uid": o["metadata"]["uid"], "resourceVersion": o["metadata"]["resourceVersion"],
                     "creationTimestamp": o["metadata"]["creationTimestamp"]},
        "spec": {"replicas": o.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": o.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": sel},
    })
}

async fn scale(
    server: Arc<Server>,
    t: &Target,
    name: &str,
    method: Method,
    req: Request<Incoming>,
) -> Result<Response<Body>> {
    let api = &server.api;
    let ns = t.namespace.clone().unwrap_or_default();
    let r = *api.resource(t.kind);
    match method {
        Method::GET => Ok(json_reply(
            StatusCode::OK,
            &scale_of(api.get(t.kind, &ns, name)?.as_ref()),
        )),
        Method::PUT | Method::PATCH => {
            let (ct, body) = read_body(req).await?;
            let is_put = method == Method::PUT;
            let updated = api.modify(t.kind, &ns, name, false, |old| {
                let current = scale_of(old);
                let new = sent_version(is_put, "Scale", &current, &ct, &body)?;
                let given = palisade_apimachinery::store::resource_version(&new);
                if is_put
                    && given != 0
                    && given != palisade_apimachinery::store::resource_version(old)
                {
                    return Err(Status::conflict(&r, name));
                }
                let replicas = new
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                if replicas < 0 {
                    return Err(Status::invalid(
                        &r,
                        name,
                        vec![palisade_apimachinery::status::Cause::invalid(
                            "spec.replicas",
                            format!(
                                "Invalid value: {replicas}: must be greater than or equal to 0"
                            ),
                        )],
                    ));
                }
                let mut o = old.clone();
                o["spec"]["replicas"] = json!(replicas);
                Ok(o)
            })?;
            Ok(json_reply(StatusCode::OK, &scale_of(&updated)))
        }
        _ => Err(Status::method_not_allowed("scale: GET, PUT or PATCH")),
    }
}
