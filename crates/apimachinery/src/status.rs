//! `Status` errors as the API server sends them: the HTTP code, the
//! machine-readable reason, the message kubectl prints, and details (the
//! object, and for 422 Invalid the field causes kubectl rebuilds its
//! message from).

use serde_json::{json, Value};

use crate::resource::Resource;

/// One field that made an object invalid: `spec.ingress[0].from[0].ipBlock.cidr`
/// and `Invalid value: "10.0.0.0/33": must be a valid CIDR value, ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`...
    pub reason: String,
    pub field: String,
    pub message: String,
}

impl Cause {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Cause {
            reason: "FieldValueInvalid".into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A failed request, as a `metav1.Status`.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details`, when the error is about one object.
    pub details: Option<Value>,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for Status {}

pub type Result<T, E = Status> = std::result::Result<T, E>;

fn details(r: &Resource, name: &str, kind: &str) -> Value {
    let mut d = json!({"name": name, "kind": kind});
    if !r.group.is_empty() {
        d["group"] = json!(r.group);
    }
    d
}

impl Status {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Status {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// `pods "web" not found`.
    pub fn not_found(r: &Resource, name: &str) -> Self {
        Status {
            details: Some(details(r, name, r.plural)),
            ..Self::new(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", r.qualified_plural()),
            )
        }
    }

    /// `namespaces "lab" already exists`.
    pub fn already_exists(r: &Resource, name: &str) -> Self {
        Status {
            details: Some(details(r, name, r.plural)),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", r.qualified_plural()),
            )
        }
    }

    /// A write made against a `resourceVersion` that is not the current one.
    pub fn conflict(r: &Resource, name: &str) -> Self {
        Status {
            details: Some(details(r, name, r.plural)),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    r.qualified_plural()
                ),
            )
        }
    }

    /// 422: the object is invalid; kubectl prints
    /// `The <Kind> "<name>" is invalid: <field>: <message>`.
    pub fn invalid(r: &Resource, name: &str, causes: Vec<Cause>) -> Self {
        let text: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let mut d = details(r, name, r.kind);
        d["causes"] = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "field": c.field, "message": c.message}))
            .collect();
        let message = if text.len() == 1 {
            text[0].clone()
        } else {
            format!("[{}]", text.join(", "))
        };
        Status {
            details: Some(d),
            ..Self::new(
                422,
                "Invalid",
                format!("{} \"{name}\" is invalid: {message}", r.qualified_kind()),
            )
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// A watch from a `resourceVersion` older than the history holds.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message)
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json, application/apply-patch+yaml (got {content_type:?})"),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// `the server could not find the requested resource`.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The `Status` object of the reply body.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v
    }

    /// A `Success` status (the reply to some deletes).
    pub fn success(details: Value) -> Value {
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
    }
}
