//! Discovery as kubectl and kube-rs read it: golden documents of
//! `/version`, aggregated `/api` and `/apis`, legacy `/api/v1` and
//! `/apis/apps/v1`, and the `/openapi/v3` index (hashes redacted); the
//! rules kubectl relies on (every resource and subresource has a
//! `responseKind`, the short names, `deployments/scale` answers an
//! `autoscaling/v1` Scale); and over HTTPS, the Content-Type of each reply
//! and kube-rs's own discovery, aggregated and legacy.

mod common;

use std::collections::BTreeSet;

use common::TestServer;
use http::header::{ACCEPT, CONTENT_TYPE};
use kube::api::{Api, PostParams};
use kube::discovery::{Discovery, Scope};
use palisade_apimachinery::discovery;
use palisade_apiserver::kinds;
use serde_json::{json, Value};

/// What kubectl 1.32 sends for `/api` and `/apis`.
const KUBECTL_ACCEPT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

fn redact_hashes(mut index: Value) -> Value {
    for (_, v) in index["paths"].as_object_mut().expect("paths").iter_mut() {
        let url = v["serverRelativeURL"].as_str().expect("a URL").to_string();
        let (base, hash) = url.split_once("?hash=").expect("a hash");
        assert_eq!(hash.len(), 128, "SHA-512 in hex");
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
            "{hash}"
        );
        v["serverRelativeURL"] = json!(format!("{base}?hash=<HASH>"));
    }
    index
}

#[test]
fn golden_version() {
    insta::assert_json_snapshot!("version", discovery::version());
}

#[test]
fn golden_aggregated_api_and_apis() {
    let reg = kinds::builtin();
    insta::assert_json_snapshot!("aggregated_api", discovery::aggregated(&reg, true));
    insta::assert_json_snapshot!("aggregated_apis", discovery::aggregated(&reg, false));
}

#[test]
fn golden_legacy_discovery() {
    let reg = kinds::builtin();
    insta::assert_json_snapshot!("legacy_api", discovery::api_versions("127.0.0.1:6443"));
    insta::assert_json_snapshot!("legacy_apis", discovery::api_group_list(&reg));
    insta::assert_json_snapshot!(
        "legacy_api_v1",
        discovery::resource_list(&reg, "", "v1").unwrap()
    );
    insta::assert_json_snapshot!(
        "legacy_apis_apps_v1",
        discovery::resource_list(&reg, "apps", "v1").unwrap()
    );
}

#[test]
fn golden_openapi_v3_index() {
    let api = palisade_apiserver::Api::new(
        kinds::builtin(),
        Box::new(palisade_apiserver::AdmitAll),
        Default::default(),
    );
    let server = palisade_apiserver::Server::new(api, "t".into(), "127.0.0.1:6443".into());
    insta::assert_json_snapshot!("openapi_v3_index", redact_hashes(server.openapi.index()));
}

/// Every resource of an aggregated document, as `(group, resource, entry)`.
fn aggregated_resources(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = vec![];
    for g in doc["items"].as_array().expect("items") {
        let group = g["metadata"]["name"].as_str().unwrap_or("").to_string();
        for v in g["versions"].as_array().expect("versions") {
            for r in v["resources"].as_array().expect("resources") {
                out.push((
                    group.clone(),
                    r["resource"].as_str().unwrap().to_string(),
                    r.clone(),
                ));
            }
        }
    }
    out
}

#[test]
fn kubectl_rules_hold() {
    let reg = kinds::builtin();
    let mut all = aggregated_resources(&discovery::aggregated(&reg, true));
    all.extend(aggregated_resources(&discovery::aggregated(&reg, false)));
    assert!(all.len() >= 10, "{} resources", all.len());
    let has_kind = |k: &Value| {
        k["kind"].as_str().is_some_and(|s| !s.is_empty())
            && k["version"].as_str().is_some_and(|s| !s.is_empty())
    };
    for (group, resource, r) in &all {
        assert!(
            has_kind(&r["responseKind"]),
            "{group}/{resource} has no responseKind: {r}"
        );
        assert_eq!(
            r["responseKind"]["group"],
            json!(group),
            "{group}/{resource}"
        );
        assert!(
            matches!(r["scope"].as_str(), Some("Namespaced" | "Cluster")),
            "{resource}"
        );
        assert!(
            r["singularResource"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{resource}"
        );
        let verbs: BTreeSet<&str> = r["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for v in [
            "get", "list", "watch", "create", "update", "patch", "delete",
        ] {
            assert!(verbs.contains(v), "{resource} lacks {v}");
        }
        for s in r["subresources"].as_array().unwrap() {
            assert!(
                has_kind(&s["responseKind"]),
                "{group}/{resource}/{} has no responseKind: {s}",
                s["subresource"]
            );
            assert!(
                !s["verbs"].as_array().unwrap().is_empty(),
                "{resource}/{} has no verbs",
                s["subresource"]
            );
        }
    }
    let short = |plural: &str| -> Vec<String> {
        all.iter()
            .find(|(_, r, _)| r == plural)
            .map(|(_, _, e)| {
                e["shortNames"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_else(|| panic!("{plural} is served"))
    };
    for (plural, want) in [
        ("pods", "po"),
        ("networkpolicies", "netpol"),
        ("services", "svc"),
        ("namespaces", "ns"),
        ("deployments", "deploy"),
        ("replicasets", "rs"),
    ] {
        assert!(
            short(plural).contains(&want.to_string()),
            "{plural}: {:?}",
            short(plural)
        );
    }
    let sub = |plural: &str, name: &str| -> Value {
        let (_, _, r) = all.iter().find(|(_, r, _)| r == plural).unwrap();
        r["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["subresource"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{plural}/{name}"))
    };
    assert_eq!(
        sub("deployments", "scale")["responseKind"],
        json!({"group": "autoscaling", "version": "v1", "kind": "Scale"})
    );
    assert_eq!(
        sub("replicasets", "scale")["responseKind"],
        json!({"group": "autoscaling", "version": "v1", "kind": "Scale"})
    );
    assert_eq!(
        sub("deployments", "status")["responseKind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    assert_eq!(
        sub("pods", "status")["responseKind"],
        json!({"group": "", "version": "v1", "kind": "Pod"})
    );
    assert_eq!(
        sub("pods", "exec")["responseKind"]["kind"],
        "PodExecOptions"
    );
    // Legacy lists agree: every subresource is listed with its kind.
    for (group, version) in [("", "v1"), ("apps", "v1"), ("networking.k8s.io", "v1")] {
        let list = discovery::resource_list(&reg, group, version).unwrap();
        for r in list["resources"].as_array().unwrap() {
            assert!(r["kind"].as_str().is_some_and(|k| !k.is_empty()), "{r}");
        }
    }
    let apps = discovery::resource_list(&reg, "apps", "v1").unwrap();
    let scale = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .unwrap();
    assert_eq!(
        (&scale["group"], &scale["version"], &scale["kind"]),
        (&json!("autoscaling"), &json!("v1"), &json!("Scale"))
    );
}

/// GET `path` with `accept`: the Content-Type and the body as JSON.
async fn get(s: &TestServer, path: &str, accept: Option<&str>) -> (u16, String, Value) {
    let mut req = http::Request::get(path);
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    let resp = s
        .client
        .send(req.body(kube::client::Body::empty()).unwrap())
        .await
        .unwrap();
    let code = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = resp.into_body().collect_bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (code, ct, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_content_types_and_bodies() {
    let s = TestServer::start().await;
    let reg = kinds::builtin();
    // Aggregated, with what kubectl sends.
    for (path, core) in [("/api", true), ("/apis", false)] {
        let (code, ct, body) = get(&s, path, Some(KUBECTL_ACCEPT)).await;
        assert_eq!(code, 200);
        assert_eq!(ct, discovery::AGGREGATED, "{path}");
        assert_eq!(
            ct,
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
        assert_eq!(body, discovery::aggregated(&reg, core), "{path}");
    }
    // Legacy, for a client that asks for JSON only.
    let (_, ct, body) = get(&s, "/api", Some("application/json")).await;
    assert_eq!(ct, "application/json");
    assert_eq!(body, discovery::api_versions(&s.address));
    let (_, ct, body) = get(&s, "/apis", None).await;
    assert_eq!(ct, "application/json");
    assert_eq!(body, discovery::api_group_list(&reg));
    for (path, group) in [("/api/v1", ""), ("/apis/apps/v1", "apps")] {
        let (code, ct, body) = get(&s, path, Some("application/json")).await;
        assert_eq!((code, ct.as_str()), (200, "application/json"), "{path}");
        assert_eq!(
            body,
            discovery::resource_list(&reg, group, "v1").unwrap(),
            "{path}"
        );
    }
    let (_, ct, body) = get(&s, "/version", None).await;
    assert_eq!(ct, "application/json");
    assert_eq!(body, discovery::version());
    let (_, ct, body) = get(&s, "/openapi/v3", None).await;
    assert_eq!(ct, "application/json");
    assert_eq!(body, s.server.openapi.index());
    // The index's URLs are served, immutable at their hash.
    let url = body["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = s
        .client
        .send(
            http::Request::get(url.as_str())
                .body(kube::client::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "public, immutable");
    let (code, _, _) = get(&s, "/apis/nothing.example.com/v1", None).await;
    assert_eq!(code, 404);

    // deployments/scale over the wire is an autoscaling/v1 Scale.
    let c = s.client.clone();
    Api::<k8s_openapi::api::core::v1::Namespace>::all(c.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "d"}})).unwrap(),
        )
        .await
        .unwrap();
    Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(c.clone(), "d")
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "web"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}))
            .unwrap(),
        )
        .await
        .unwrap();
    let (code, ct, scale) = get(&s, "/apis/apps/v1/namespaces/d/deployments/web/scale", None).await;
    assert_eq!((code, ct.as_str()), (200, "application/json"));
    assert_eq!(
        (&scale["apiVersion"], &scale["kind"]),
        (&json!("autoscaling/v1"), &json!("Scale"))
    );
    assert_eq!(scale["spec"]["replicas"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_discovery_aggregated_and_legacy_agree() {
    let s = TestServer::start().await;
    let summary = |d: &Discovery| -> BTreeSet<String> {
        d.groups()
            .flat_map(|g| {
                g.recommended_resources()
                    .into_iter()
                    .map(|(ar, caps)| {
                        let scope = if caps.scope == Scope::Namespaced {
                            "ns"
                        } else {
                            "cluster"
                        };
                        let subs: Vec<String> = caps
                            .subresources
                            .iter()
                            .map(|(sr, _)| sr.plural.clone())
                            .collect();
                        format!(
                            "{}/{} {} {} {scope} [{}]",
                            ar.group,
                            ar.version,
                            ar.kind,
                            ar.plural,
                            subs.join(",")
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let aggregated = Discovery::new(s.client.clone())
        .run_aggregated()
        .await
        .unwrap();
    let legacy = Discovery::new(s.client.clone()).run().await.unwrap();
    assert_eq!(summary(&aggregated), summary(&legacy));
    let all = summary(&aggregated);
    for want in [
        "/v1 Pod pods ns",
        "/v1 Namespace namespaces cluster",
        "apps/v1 Deployment deployments ns",
        "networking.k8s.io/v1 NetworkPolicy networkpolicies ns",
    ] {
        assert!(
            all.iter().any(|l| l.starts_with(want)),
            "{want} in {all:#?}"
        );
    }
    let deploy = all
        .iter()
        .find(|l| l.starts_with("apps/v1 Deployment "))
        .unwrap();
    assert!(
        deploy.contains("scale") && deploy.contains("status"),
        "{deploy}"
    );
}
