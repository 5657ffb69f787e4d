//! The HTTP side: authentication, routing, content negotiation (JSON,
//! Tables, protobuf bodies, the three patch types), the verbs, and the
//! replies and `Status` errors as the API server writes them.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use palisade_apimachinery::status::Result;
use palisade_apimachinery::store::{resource_version, Kind};
use palisade_apimachinery::table::{self, IncludeObject};
use palisade_apimachinery::{discovery, patch, proto, selector, time, Status};
use serde_json::{json, Value};

use crate::api::Api;
use crate::route::{self, Query, Route};
use crate::Server;

/// Reply bodies (a log stream can fail mid-way).
pub type Body = BoxBody<Bytes, std::io::Error>;

/// The largest request body read (the API server's limit is about 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

pub fn json_reply(code: StatusCode, v: &Value) -> Response<Body> {
    typed_reply(code, "application/json", v)
}

fn typed_reply(code: StatusCode, content_type: &str, v: &Value) -> Response<Body> {
    let mut r = Response::new(full(serde_json::to_vec(v).unwrap_or_default()));
    *r.status_mut() = code;
    if let Ok(ct) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(CONTENT_TYPE, ct);
    }
    r
}

pub fn status_reply(s: &Status) -> Response<Body> {
    json_reply(
        StatusCode::from_u16(s.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &s.to_json(),
    )
}

/// Constant-time comparison of the bearer token.
fn authorized(server: &Server, req: &Request<Incoming>) -> bool {
    let Some(given) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let want = server.token.as_bytes();
    let given = given.trim().as_bytes();
    given.len() == want.len()
        && given
            .iter()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// One request, start to end.
pub async fn handle(server: Arc<Server>, req: Request<Incoming>) -> Response<Body> {
    if !authorized(&server, &req) {
        return status_reply(&Status::unauthorized());
    }
    let path = req.uri().path().to_string();
    let query = Query::parse(req.uri().query());
    let Some(route) = route::parse(&server.api, &path) else {
        return status_reply(&Status::no_route());
    };
    match serve(server, route, query, req).await {
        Ok(r) => r,
        Err(s) => status_reply(&s),
    }
}

fn accept(req: &Request<Incoming>) -> String {
    req.headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The Content-Type of a Table reply.
pub(crate) const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// Whether an `Accept` header asks for a Table (`kubectl get`).
pub(crate) fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .any(|t| t.contains("as=Table") && t.contains("g=meta.k8s.io"))
}

async fn serve(
    server: Arc<Server>,
    route: Route,
    query: Query,
    req: Request<Incoming>,
) -> Result<Response<Body>> {
    let api = &server.api;
    match (route, req.method().clone()) {
        (Route::Version, Method::GET) => Ok(json_reply(StatusCode::OK, &discovery::version())),
        (Route::Healthz, Method::GET) => {
            let mut r = Response::new(full("ok"));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            Ok(r)
        }
        (Route::Discovery { core }, Method::GET) => {
            if discovery::wants_aggregated(&accept(&req)) {
                let doc = discovery::aggregated(&api.registry, core);
                Ok(typed_reply(StatusCode::OK, discovery::AGGREGATED, &doc))
            } else if core {
                Ok(json_reply(
                    StatusCode::OK,
                    &discovery::api_versions(&server.address),
                ))
            } else {
                Ok(json_reply(
                    StatusCode::OK,
                    &discovery::api_group_list(&api.registry),
                ))
            }
        }
        (Route::Group(g), Method::GET) => discovery::group_versions(&api.registry, &g)
            .map(|v| json_reply(StatusCode::OK, &v))
            .ok_or_else(Status::no_route),
        (Route::GroupVersion { group, version }, Method::GET) => {
            discovery::resource_list(&api.registry, &group, &version)
                .map(|v| json_reply(StatusCode::OK, &v))
                .ok_or_else(Status::no_route)
        }
        (Route::OpenApiIndex, Method::GET) => {
            Ok(json_reply(StatusCode::OK, &server.openapi.index()))
        }
        (Route::OpenApiDocument(key), Method::GET) => openapi_document(&server, &key, &query),
        (
            Route::Objects {
                kind,
                namespace,
                name,
                subresource,
            },
            method,
        ) => {
            let target = Target {
                kind,
                namespace,
                name,
                subresource,
            };
            objects(server, target, method, query, req).await
        }
        (_, m) => Err(Status::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({m})"
        ))),
    }
}

fn openapi_document(server: &Server, key: &str, query: &Query) -> Result<Response<Body>> {
    let (bytes, hash) = server.openapi.document(key).ok_or_else(Status::no_route)?;
    let mut r = Response::new(full(bytes.to_vec()));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{hash}\"")) {
        h.insert("etag", etag);
    }
    match query.get("hash") {
        Some(given) if given == hash => {
            h.insert(
                "cache-control",
                HeaderValue::from_static("public, immutable"),
            );
        }
        Some(_) => {
            // A stale hash: where the document is now.
            let loc = format!("/openapi/v3/{key}?hash={hash}");
            *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(l) = HeaderValue::from_str(&loc) {
                r.headers_mut().insert("location", l);
            }
        }
        None => {}
    }
    Ok(r)
}

/// The object(s) a request is about.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

impl Target {
    fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
}

/// A request's Content-Type and body (at most [`MAX_BODY`] bytes).
pub(crate) async fn read_body(req: Request<Incoming>) -> Result<(String, Bytes)> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let body = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            Status::new(
                413,
                "RequestEntityTooLarge",
                format!("reading the request body: {e}"),
            )
        })?
        .to_bytes();
    Ok((content_type, body))
}

/// The JSON text a client sent, for the duplicate-field check (a
/// protobuf body has no duplicates to find).
fn json_sent<'a>(content_type: &str, body: &'a [u8]) -> &'a [u8] {
    if content_type.contains("protobuf") {
        b"{}"
    } else {
        body
    }
}

/// A create or update body as JSON, whatever it was sent as.
fn decode_object(content_type: &str, body: &[u8]) -> Result<Value> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        "application/json" | "" | "*/*" => serde_json::from_slice(body)
            .map_err(|e| Status::bad_request(format!("the request body is not valid JSON: {e}"))),
        "application/vnd.kubernetes.protobuf" => proto::decode(body).map_err(|e| {
            Status::bad_request(format!("the protobuf request body could not be read: {e}"))
        }),
        other => Err(Status::unsupported_media_type(other)),
    }
}

async fn objects(
    server: Arc<Server>,
    t: Target,
    method: Method,
    query: Query,
    req: Request<Incoming>,
) -> Result<Response<Body>> {
    let api = server.api.clone();
    let r = *api.resource(t.kind);
    let dry_run = query.get("dryRun") == Some("All");
    if let Some(sub) = t.subresource.clone() {
        if r.subresource(&sub).is_none() {
            return Err(Status::no_route());
        }
        return crate::subresource::serve(server, t, &sub, method, query, req).await;
    }
    match (method, t.name.clone()) {
        (Method::GET, None) if query.flag("watch") => {
            crate::watch::serve(&server, &t, &query, &accept(&req))
        }
        (Method::GET, None) => list(&api, &t, &query, &accept(&req)),
        (Method::GET, Some(name)) => {
            let obj = api.get(t.kind, t.ns(), &name)?;
            let accept = accept(&req);
            if wants_table(&accept) {
                let include = IncludeObject::parse(query.get("includeObject").unwrap_or(""));
                let rv = resource_version(&obj);
                let t = table::table(&r, [obj.as_ref()], rv, time::now(), include, true);
                return Ok(typed_reply(StatusCode::OK, TABLE, &t));
            }
            Ok(json_reply(StatusCode::OK, &obj))
        }
        (Method::POST, None) => {
            let (ct, body) = read_body(req).await?;
            let obj = decode_object(&ct, &body)?;
            let warnings = server.check_fields(&r, &query, json_sent(&ct, &body), &obj)?;
            let ns = t.namespace.clone().unwrap_or_default();
            if let Some(given) = obj.pointer("/metadata/namespace").and_then(Value::as_str) {
                if r.namespaced && !given.is_empty() && given != ns {
                    return Err(Status::bad_request(format!(
                        "the namespace of the provided object does not match the namespace sent on the request ({given} != {ns})"
                    )));
                }
            }
            let created = api.create(t.kind, &ns, obj, dry_run)?;
            server.wait_realized(&created, dry_run).await;
            Ok(with_warnings(
                json_reply(StatusCode::CREATED, &created),
                &warnings,
            ))
        }
        (Method::PUT, Some(name)) => {
            let (ct, body) = read_body(req).await?;
            let obj = decode_object(&ct, &body)?;
            let warnings = server.check_fields(&r, &query, json_sent(&ct, &body), &obj)?;
            let precondition = Some(resource_version(&obj)).filter(|rv| *rv != 0);
            let updated = api.update(t.kind, t.ns(), &name, obj, precondition, dry_run)?;
            server.wait_realized(&updated, dry_run).await;
            Ok(with_warnings(
                json_reply(StatusCode::OK, &updated),
                &warnings,
            ))
        }
        (Method::PATCH, Some(name)) => {
            let (ct, body) = read_body(req).await?;
            let (patched, warnings) =
                patch_object(&server, &t, &name, &ct, &body, &query, dry_run)?;
            server.wait_realized(&patched, dry_run).await;
            Ok(with_warnings(
                json_reply(StatusCode::OK, &patched),
                &warnings,
            ))
        }
        (Method::DELETE, Some(name)) => {
            let (_, body) = read_body(req).await?;
            let options: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
            // DeleteOptions may ask for a dry run in the body too.
            let dry_run = dry_run
                || options["dryRun"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|v| v == "All"));
            let gone = crate::controllers::delete(&api, t.kind, t.ns(), &name, &options, dry_run)?;
            server.wait_realized(&gone, dry_run).await;
            Ok(json_reply(StatusCode::OK, &gone))
        }
        (Method::DELETE, None) => {
            let (items, _) = api.list(t.kind, t.namespace.as_deref());
            let items = filter(&items, &query)?;
            let mut last = None;
            for o in &items {
                let name = o
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let ns = o
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                last = Some(crate::controllers::delete(
                    &api,
                    t.kind,
                    ns,
                    name,
                    &json!({}),
                    dry_run,
                )?);
            }
            if let Some(o) = &last {
                server.wait_realized(o, dry_run).await;
            }
            Ok(json_reply(
                StatusCode::OK,
                &list_value(&r, items, api.store().revision()),
            ))
        }
        (m, _) => Err(Status::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({m})"
        ))),
    }
}

/// Applies a patch of any of the three types under the store's lock.
fn patch_object(
    server: &Server,
    t: &Target,
    name: &str,
    content_type: &str,
    body: &[u8],
    query: &Query,
    dry_run: bool,
) -> Result<(Arc<Value>, Vec<String>)> {
    let r = *server.api.resource(t.kind);
    let ty = patch_type(content_type)?;
    let mut warnings = vec![];
    // Duplicates are looked for in what was sent (a JSON patch is a list
    // of operations, not an object).
    let sent: &[u8] = if ty == patch::PatchType::Json {
        b"{}"
    } else {
        body
    };
    let patched = server.api.modify(t.kind, t.ns(), name, dry_run, |old| {
        let builtin = !r.group.contains('.') || r.group.ends_with(".k8s.io");
        let new = patched(r.kind, builtin, old, body, ty)?;
        let precondition = resource_version(&new);
        if precondition != 0 && precondition != resource_version(old) {
            return Err(Status::conflict(&r, name));
        }
        warnings = server.check_fields(&r, query, sent, &new)?;
        Ok(new)
    })?;
    Ok((patched, warnings))
}

/// The patch type a Content-Type names (415 for any other).
pub(crate) fn patch_type(content_type: &str) -> Result<patch::PatchType> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    patch::PatchType::from_content_type(media).ok_or_else(|| Status::unsupported_media_type(media))
}

/// `current` with a patch of type `ty` applied; its errors as the API's.
pub(crate) fn patched(
    kind: &str,
    builtin: bool,
    current: &Value,
    body: &[u8],
    ty: patch::PatchType,
) -> Result<Value> {
    patch::apply(kind, builtin, current, body, ty)
        .map_err(|e| Status::new(e.code(), e.reason(), e.to_string()))
}

/// `Warning: 299 - "..."` headers, as the API server sends field warnings.
fn with_warnings(mut resp: Response<Body>, warnings: &[String]) -> Response<Body> {
    for w in warnings {
        let text = format!("299 - {:?}", w);
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append("warning", v);
        }
    }
    resp
}

/// Items that pass the request's label and field selectors.
pub fn filter(items: &[Arc<Value>], query: &Query) -> Result<Vec<Arc<Value>>> {
    let (labels, fields) = selectors(query)?;
    Ok(items
        .iter()
        .filter(|o| labels.as_ref().is_none_or(|l| l.matches_object(o)))
        .filter(|o| fields.as_ref().is_none_or(|f| f.matches(o)))
        .cloned()
        .collect())
}

pub type Selectors = (
    Option<selector::LabelSelector>,
    Option<selector::FieldSelector>,
);

pub fn selectors(query: &Query) -> Result<Selectors> {
    let labels = query
        .get("labelSelector")
        .filter(|s| !s.is_empty())
        .map(selector::LabelSelector::parse)
        .transpose()
        .map_err(|e| Status::bad_request(format!("unable to parse requirement: {e}")))?;
    let fields = query
        .get("fieldSelector")
        .filter(|s| !s.is_empty())
        .map(selector::FieldSelector::parse)
        .transpose()
        .map_err(|e| Status::bad_request(format!("invalid field selector: {e}")))?;
    Ok((labels, fields))
}

fn list_value(r: &palisade_apimachinery::Resource, items: Vec<Arc<Value>>, rv: u64) -> Value {
    let items: Vec<Value> = items.iter().map(|o| (**o).clone()).collect();
    json!({
        "kind": format!("{}List", r.kind),
        "apiVersion": r.api_version(),
        "metadata": {"resourceVersion": rv.to_string()},
        "items": items,
    })
}

fn list(api: &Api, t: &Target, query: &Query, accept: &str) -> Result<Response<Body>> {
    let r = *api.resource(t.kind);
    let (items, rv) = api.list(t.kind, t.namespace.as_deref());
    let items = filter(&items, query)?;
    if wants_table(accept) {
        let include = IncludeObject::parse(query.get("includeObject").unwrap_or(""));
        let t = table::table(
            &r,
            items.iter().map(|o| o.as_ref()),
            rv,
            time::now(),
            include,
            true,
        );
        return Ok(typed_reply(StatusCode::OK, TABLE, &t));
    }
    Ok(json_reply(StatusCode::OK, &list_value(&r, items, rv)))
}
