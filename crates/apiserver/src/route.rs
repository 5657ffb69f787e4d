//! Request paths and queries, parsed: which kind, namespace, name and
//! subresource a URL names, and the query parameters the API reads.

use std::collections::BTreeMap;

use palisade_apimachinery::store::Kind;

use crate::api::Api;

/// What a URL addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Version,
    Healthz,
    /// `/api` (core) or `/apis`.
    Discovery {
        core: bool,
    },
    /// `/apis/GROUP`.
    Group(String),
    /// `/api/v1`, `/apis/GROUP/VERSION`.
    GroupVersion {
        group: String,
        version: String,
    },
    OpenApiIndex,
    /// `/openapi/v3/apis/apps/v1`: the key `apis/apps/v1`.
    OpenApiDocument(String),
    /// A kind's objects: all namespaces when `namespace` is `None` and the
    /// kind is namespaced; one object with `name`.
    Objects {
        kind: Kind,
        namespace: Option<String>,
        name: Option<String>,
        subresource: Option<String>,
    },
}

/// Parses a path against the registry; `None`: nothing is served there.
pub fn parse(api: &Api, path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["version"] => Some(Route::Version),
        ["healthz" | "readyz" | "livez"] => Some(Route::Healthz),
        ["api"] => Some(Route::Discovery { core: true }),
        ["apis"] => Some(Route::Discovery { core: false }),
        ["openapi", "v3"] => Some(Route::OpenApiIndex),
        ["openapi", "v3", rest @ ..] if !rest.is_empty() => {
            Some(Route::OpenApiDocument(rest.join("/")))
        }
        ["api", version] => Some(Route::GroupVersion {
            group: String::new(),
            version: version.to_string(),
        }),
        ["apis", group] => Some(Route::Group(group.to_string())),
        ["apis", group, version] => Some(Route::GroupVersion {
            group: group.to_string(),
            version: version.to_string(),
        }),
        ["api", version, rest @ ..] => objects(api, "", version, rest),
        ["apis", group, version, rest @ ..] => objects(api, group, version, rest),
        _ => None,
    }
}

fn objects(api: &Api, group: &str, version: &str, rest: &[&str]) -> Option<Route> {
    let route = |kind, namespace: Option<&str>, name: Option<&&str>, sub: Option<&&str>| {
        Some(Route::Objects {
            kind,
            namespace: namespace.map(str::to_string),
            name: name.map(|s| s.to_string()),
            subresource: sub.map(|s| s.to_string()),
        })
    };
    // namespaces/NS/PLURAL[/NAME[/SUB]] for a namespaced kind
    if let ["namespaces", ns, plural, tail @ ..] = rest {
        if let Some(kind) = api.kind(group, version, plural) {
            if api.resource(kind).namespaced && tail.len() <= 2 {
                return route(kind, Some(ns), tail.first(), tail.get(1));
            }
        }
    }
    let (plural, tail) = rest.split_first()?;
    let kind = api.kind(group, version, plural)?;
    if tail.len() > 2 {
        return None;
    }
    route(kind, None, tail.first(), tail.get(1))
}

/// The query string, decoded; repeated keys (`command=`) keep every value.
#[derive(Debug, Clone, Default)]
pub struct Query(BTreeMap<String, Vec<String>>);

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
            m.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Query(m)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.get(key).cloned().unwrap_or_default()
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    pub fn number(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(|v| v.parse().ok())
    }
}
