use proptest::prelude::*;
use serde_json::json;

use super::*;

// ---------------------------------------------------------------------------
// Real bodies: captured from kubectl v1.32.4 (`kubectl create ...` against a
// stub server that recorded the POSTed bytes; see testdata/README.md).

#[test]
fn kubectl_create_namespace() {
    let body = include_bytes!("testdata/create-ns-lab.bin");
    assert_eq!(
        decode(body).unwrap(),
        json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"lab"}})
    );
}

/// The same body, written out by hand from the wire format and the
/// generated.proto files: gogo writes every value field, zero or not.
#[test]
fn create_namespace_by_hand_matches_kubectl() {
    let object_meta = [
        &b"\x0a\x03lab"[..], // name = 1
        b"\x12\x00",         // generateName = 2: ""
        b"\x1a\x00",         // namespace = 3: ""
        b"\x22\x00",         // selfLink = 4: ""
        b"\x2a\x00",         // uid = 5: ""
        b"\x32\x00",         // resourceVersion = 6: ""
        b"\x38\x00",         // generation = 7: 0
        b"\x42\x00",         // creationTimestamp = 8: zero Time, empty
    ]
    .concat();
    let namespace = [
        &[0x0a, object_meta.len() as u8][..], // metadata = 1
        &object_meta,
        b"\x12\x00",         // spec = 2: no finalizers
        b"\x1a\x02\x0a\x00", // status = 3: {phase = 1: ""}
    ]
    .concat();
    let type_meta = b"\x0a\x02v1\x12\x09Namespace";
    let body = [
        &MAGIC[..],
        &[0x0a, type_meta.len() as u8], // typeMeta = 1
        type_meta,
        &[0x12, namespace.len() as u8], // raw = 2
        &namespace,
        b"\x1a\x00", // contentEncoding = 3: ""
        b"\x22\x00", // contentType = 4: ""
    ]
    .concat();
    assert_eq!(&body[..], &include_bytes!("testdata/create-ns-lab.bin")[..]);
    // And encode with Go's zero values writes the same bytes.
    let value = json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"lab"}});
    assert_eq!(encode_with(&value, true).unwrap(), body);
}

#[test]
fn kubectl_create_deployment() {
    let body = include_bytes!("testdata/create-deploy-api.bin");
    assert_eq!(
        decode(body).unwrap(),
        json!({"apiVersion":"apps/v1","kind":"Deployment",
            "metadata":{"name":"api","namespace":"lab","labels":{"app":"api"}},
            "spec":{"replicas":1,"selector":{"matchLabels":{"app":"api"}},
                "template":{"metadata":{"labels":{"app":"api"}},
                    "spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}})
    );
    // Go's encoding of that object, zero values and all, is what kubectl sent.
    let value = decode(body).unwrap();
    assert_eq!(encode_with(&value, true).unwrap(), &body[..]);
}

#[test]
fn kubectl_create_deployment_with_port_replicas_command() {
    // kubectl create deployment web --image=nginx:1.27 --port=80 --replicas=3 -- sleep 3600
    let body = include_bytes!("testdata/create-deploy-web-port-replicas-command.bin");
    let value = decode(body).unwrap();
    assert_eq!(
        value,
        json!({"apiVersion":"apps/v1","kind":"Deployment",
            "metadata":{"name":"web","namespace":"lab","labels":{"app":"web"}},
            "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
                "template":{"metadata":{"labels":{"app":"web"}},
                    "spec":{"containers":[{"name":"nginx","image":"nginx:1.27",
                        "command":["sleep","3600"],"ports":[{"containerPort":80}]}]}}}})
    );
    assert_eq!(encode_with(&value, true).unwrap(), &body[..]);
}

#[test]
fn kubectl_create_deployment_zero_replicas_keeps_the_pointer() {
    let body = include_bytes!("testdata/create-deploy-zero-replicas.bin");
    let value = decode(body).unwrap();
    assert_eq!(value["spec"]["replicas"], json!(0));
    assert_eq!(
        value["spec"]["template"]["spec"]["containers"],
        json!([{"name":"pause","image":"registry.k8s.io/pause:3.9"}])
    );
    assert_eq!(encode_with(&value, true).unwrap(), &body[..]);
}

// ---------------------------------------------------------------------------
// The zero-value rule and the special types.

fn round_trip(value: &Value) -> Value {
    let plain = decode(&encode(value).unwrap()).unwrap();
    let go_like = decode(&encode_with(value, true).unwrap()).unwrap();
    assert_eq!(plain, go_like);
    plain
}

#[test]
fn pointers_keep_zero_values_and_value_fields_drop_them() {
    let sent = json!({"apiVersion":"apps/v1","kind":"Deployment",
        "metadata":{"name":"d","generation":0},
        "spec":{"replicas":0,"paused":false,"minReadySeconds":0,"revisionHistoryLimit":0,
            "selector":{},"strategy":{"type":""},
            "template":{"spec":{"automountServiceAccountToken":false,"hostNetwork":false,
                "containers":[{"name":"c","args":[""],"stdin":false,"resources":{}}]}}}});
    assert_eq!(
        round_trip(&sent),
        json!({"apiVersion":"apps/v1","kind":"Deployment",
            "metadata":{"name":"d"},
            "spec":{"replicas":0,"revisionHistoryLimit":0,"selector":{},
                "template":{"spec":{"automountServiceAccountToken":false,
                    "containers":[{"name":"c","args":[""]}]}}}})
    );
}

#[test]
fn time_int_or_string_quantity_bytes_inline() {
    let svc = json!({"apiVersion":"v1","kind":"Service",
        "metadata":{"name":"web","creationTimestamp":"2024-02-29T23:59:58Z"},
        "spec":{"type":"ClusterIP","selector":{"app":"web"},"ports":[
            {"name":"http","protocol":"TCP","port":80,"targetPort":8080},
            {"name":"named","port":443,"targetPort":"https","appProtocol":""}]}});
    assert_eq!(round_trip(&svc), svc);

    let cm = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},
        "data":{"a":"1","empty":""},"binaryData":{"bin":"AAEC/w=="},"immutable":false});
    assert_eq!(round_trip(&cm), cm);

    let pod = json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
        "spec":{"containers":[{"name":"c","image":"i",
            "resources":{"limits":{"cpu":"500m"},"requests":{"memory":"64Mi"}},
            "env":[{"name":"A","value":"x"},
                   {"name":"B","valueFrom":{"configMapKeyRef":{"name":"cm","key":"k"}}},
                   {"name":"C","valueFrom":{"secretKeyRef":{"name":"s","key":"k","optional":true}}},
                   {"name":"D","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
            "envFrom":[{"configMapRef":{"name":"cm"}}]}],
            "terminationGracePeriodSeconds":30,"nodeSelector":{"disk":"ssd"}}});
    assert_eq!(round_trip(&pod), pod);
}

#[test]
fn time_conversions() {
    for (secs, text) in [
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (1_709_251_199, "2024-02-29T23:59:59Z"),
        (-62_135_596_799, "0001-01-01T00:00:01Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ] {
        assert_eq!(format_rfc3339(secs).as_deref(), Some(text));
        assert_eq!(parse_rfc3339(text), Some(secs));
    }
    assert_eq!(format_rfc3339(253_402_300_800), None);
    assert_eq!(
        parse_rfc3339("2024-01-01T01:00:00+01:00"),
        Some(1_704_067_200)
    );
    assert_eq!(parse_rfc3339("2024-01-01T00:00:00.5Z"), Some(1_704_067_200));
    assert_eq!(parse_rfc3339("2024-01-01 00:00:00Z"), None);

    // A zero Time on the wire (empty, or Go's year 1) is dropped, even
    // for a pointer; nanoseconds are dropped as metav1.Time does.
    let meta = |time: &[u8]| {
        let om = [&[0x0a, 1, b'n', 0x42, time.len() as u8][..], time].concat();
        let raw = [&[0x0a, om.len() as u8][..], &om].concat();
        let tm = b"\x0a\x02v1\x12\x09Namespace";
        let body = [
            &MAGIC[..],
            &[0x0a, tm.len() as u8],
            tm,
            &[0x12, raw.len() as u8],
            &raw,
        ]
        .concat();
        decode(&body).unwrap()["metadata"].clone()
    };
    assert_eq!(meta(b""), json!({"name":"n"}));
    let mut go_zero = vec![0x08];
    put_varint(&mut go_zero, -62_135_596_800i64 as u64);
    assert_eq!(meta(&go_zero), json!({"name":"n"}));
    assert_eq!(
        meta(b"\x08\x00\x10\x05"),
        json!({"name":"n","creationTimestamp":"1970-01-01T00:00:00Z"})
    );
}

#[test]
fn base64_known_values() {
    for (raw, text) in [
        (&b""[..], ""),
        (b"f", "Zg=="),
        (b"fo", "Zm8="),
        (b"foo", "Zm9v"),
        (b"\xff\xfe", "//4="),
    ] {
        assert_eq!(base64_encode(raw), text);
        assert_eq!(base64_decode(text).as_deref(), Some(raw));
    }
    assert_eq!(base64_decode("Zg="), None);
    assert_eq!(base64_decode("Zg==Zg=="), None);
    assert_eq!(base64_decode("Z!=="), None);
}

// ---------------------------------------------------------------------------
// Errors.

fn wrap(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut tm = Vec::new();
    put_len(&mut tm, 1, api_version.as_bytes());
    put_len(&mut tm, 2, kind.as_bytes());
    let mut out = MAGIC.to_vec();
    put_len(&mut out, 1, &tm);
    put_len(&mut out, 2, raw);
    out
}

#[test]
fn unknown_kind_is_a_clear_error() {
    let err = decode(&wrap("networking.k8s.io/v1", "NetworkPolicy", b"")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "protobuf bodies are accepted for v1 Namespace, v1 Pod, v1 Service, v1 ConfigMap, apps/v1 Deployment"
        ),
        "{text}"
    );
    assert!(text.ends_with("send JSON"), "{text}");
    // The kind must match its group-version too.
    assert!(matches!(
        decode(&wrap("v1", "Deployment", b"")),
        Err(ProtoError::UnsupportedKind { .. })
    ));
    assert!(matches!(
        decode(&wrap("", "", b"")),
        Err(ProtoError::UnsupportedKind { .. })
    ));
}

#[test]
fn malformed_bodies() {
    assert_eq!(decode(b""), Err(ProtoError::NoMagic));
    assert_eq!(decode(b"{\"kind\":\"x\"}"), Err(ProtoError::NoMagic));
    let ns = include_bytes!("testdata/create-ns-lab.bin");
    for cut in 0..ns.len() {
        // A proper prefix ends inside a field, or between fields: before
        // `raw` (an empty Namespace) or in the trailing empty strings.
        if let Ok(v) = decode(&ns[..cut]) {
            let ok = cut == 21 || cut == ns.len() - 4 || cut == ns.len() - 2;
            assert!(ok, "prefix {cut}: {v}");
        }
    }
    // Groups, bad wire types, field number 0, overlong varints.
    for raw in [
        &b"\x0b\x0c"[..],
        b"\x0f",
        b"\x00\x00",
        b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
        b"\x08\x80",
    ] {
        let err = decode(&wrap("v1", "Namespace", raw)).unwrap_err();
        assert!(
            matches!(err, ProtoError::Malformed { .. }),
            "{raw:?}: {err}"
        );
    }
    // A string field sent as a varint, invalid UTF-8.
    let err = decode(&wrap("v1", "Namespace", b"\x0a\x02\x08\x01")).unwrap_err();
    assert!(
        matches!(
            err,
            ProtoError::Malformed {
                message: "ObjectMeta",
                ..
            }
        ),
        "{err}"
    );
    let err = decode(&wrap("v1", "Namespace", b"\x0a\x03\x0a\x01\xff")).unwrap_err();
    assert!(err.to_string().contains("UTF-8"), "{err}");
    // Content encodings and types.
    let mut body = wrap("v1", "Namespace", b"");
    put_len(&mut body, 3, b"gzip");
    assert_eq!(
        decode(&body),
        Err(ProtoError::UnsupportedEncoding("gzip".into()))
    );
    let mut body = wrap("v1", "Namespace", b"");
    put_len(&mut body, 4, b"application/json");
    assert!(matches!(
        decode(&body),
        Err(ProtoError::UnsupportedContentType(_))
    ));
    let mut body = wrap("v1", "Namespace", b"");
    put_len(&mut body, 4, CONTENT_TYPE.as_bytes());
    assert!(decode(&body).is_ok());
}

#[test]
fn unknown_fields_pass_only_when_zero() {
    // PodSpec field 14 (securityContext) is not in the table.
    let with_pod_field = |field: &[u8]| {
        let spec = [&b"\x12\x03\x0a\x01c"[..], field].concat(); // containers: [{name: c}]
        let mut raw = Vec::new();
        put_len(&mut raw, 2, &spec);
        decode(&wrap("v1", "Pod", &raw))
    };
    let ok = json!({"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"c"}]}});
    assert_eq!(with_pod_field(b"\x72\x00"), Ok(ok.clone()));
    // A nested message of zeros (gogo's unset struct) is zero too.
    assert_eq!(with_pod_field(b"\x72\x04\x08\x00\x12\x00"), Ok(ok.clone()));
    assert_eq!(with_pod_field(b"\xf8\x06\x00"), Ok(ok)); // field 111, varint 0
    assert_eq!(
        with_pod_field(b"\x72\x02\x08\x01"),
        Err(ProtoError::UnsupportedField {
            message: "PodSpec",
            number: 14
        })
    );
    let err = with_pod_field(b"\x0a\x03\x0a\x01v").unwrap_err(); // volumes: [{name: "v"}]
    assert_eq!(
        err.to_string(),
        "protobuf field number 1 of PodSpec is not supported by this server; send JSON"
    );
}

#[test]
fn deep_nesting_is_bounded() {
    // 2 000 nested empty-looking messages in an unknown field: no stack
    // overflow, an error.
    let mut inner: Vec<u8> = b"\x08\x00".to_vec();
    for _ in 0..2_000 {
        let mut outer = Vec::new();
        put_len(&mut outer, 1, &inner);
        inner = outer;
    }
    let mut raw = Vec::new();
    put_len(&mut raw, 9, &inner);
    assert_eq!(
        decode(&wrap("v1", "Namespace", &raw)),
        Err(ProtoError::UnsupportedField {
            message: "Namespace",
            number: 9
        })
    );
}

#[test]
fn encode_rejects_what_it_cannot_write() {
    let e = |v: Value| encode(&v).unwrap_err().to_string();
    assert!(e(json!([])).contains("not a JSON object"));
    assert!(e(json!({"apiVersion":"v1","kind":"Namespace","spce":{}}))
        .contains("Namespace.spce: unknown field"));
    assert!(
        e(json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":1}}))
            .contains("expected a string")
    );
    assert!(e(
        json!({"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":4294967296i64}})
    )
    .contains("range"));
    assert!(e(json!({"apiVersion":"v1","kind":"Secret"})).contains("send JSON"));
}

// ---------------------------------------------------------------------------
// Properties.

/// JSON values of `ty` (one element, for repeated fields).
fn arb_elem(ty: Ty) -> BoxedStrategy<Value> {
    match ty {
        Str => "\\PC{0,6}".prop_map(Value::String).boxed(),
        Bytes => proptest::collection::vec(any::<u8>(), 0..6)
            .prop_map(|b| Value::String(base64_encode(&b)))
            .boxed(),
        Int32 => any::<i32>().prop_map(Value::from).boxed(),
        Int64 => any::<i64>().prop_map(Value::from).boxed(),
        Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Time => (-62_135_596_799i64..=253_402_300_799)
            .prop_map(|s| Value::String(format_rfc3339(s).unwrap()))
            .boxed(),
        IntOrString => prop_oneof![
            any::<i32>().prop_map(Value::from),
            "\\PC{0,6}".prop_map(Value::String),
        ]
        .boxed(),
        Quantity => "[0-9]{1,3}(m|Mi|Gi)?".prop_map(Value::String).boxed(),
        Ty::Msg(inner) => arb_msg(inner).prop_map(Value::Object).boxed(),
        Ty::Map(value_ty) => {
            proptest::collection::btree_map("[a-z./]{0,5}", arb_elem(*value_ty), 1..3)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed()
        }
        Ty::Inline(inner) => arb_msg(inner).prop_map(Value::Object).boxed(),
    }
}

/// JSON objects of `msg` in the decoder's normal form: value fields never
/// zero, pointers anything, lists and maps non-empty.
fn arb_msg(msg: &'static Msg) -> BoxedStrategy<Map<String, Value>> {
    let fields: Vec<BoxedStrategy<Vec<(String, Value)>>> = msg
        .fields
        .iter()
        .map(|f| {
            let name = f.name.to_owned();
            let elem = match (f.ty, f.card) {
                (Ty::Inline(inner), _) => {
                    return arb_msg(inner)
                        .prop_map(|m| m.into_iter().collect::<Vec<_>>())
                        .boxed()
                }
                (ty, Card::Rep) => proptest::collection::vec(arb_elem(ty), 1..3)
                    .prop_map(Value::Array)
                    .boxed(),
                (ty, _) => arb_elem(ty),
            };
            let card = f.card;
            proptest::option::weighted(0.25, elem)
                .prop_map(move |v| match v {
                    Some(v) if card == Card::Ptr || !is_zero(&v) => vec![(name.clone(), v)],
                    _ => vec![],
                })
                .boxed()
        })
        .collect();
    fields
        .prop_map(|parts| parts.into_iter().flatten().collect())
        .boxed()
}

fn arb_object() -> impl Strategy<Value = Value> {
    (0..KINDS.len()).prop_flat_map(|i| {
        let (api_version, kind, msg) = KINDS[i];
        arb_msg(msg).prop_map(move |mut m| {
            m.insert("apiVersion".into(), api_version.into());
            m.insert("kind".into(), kind.into());
            Value::Object(m)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_decode_round_trips(value in arb_object()) {
        prop_assert_eq!(decode(&encode(&value).unwrap()).unwrap(), value.clone());
        // With every Go value field written as zero, as kubectl does.
        prop_assert_eq!(decode(&encode_with(&value, true).unwrap()).unwrap(), value);
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode(&body);
        let _ = decode(&[&MAGIC[..], &body].concat());
        // Straight into the table decoder.
        let _ = decode(&wrap("apps/v1", "Deployment", &body));
        let _ = decode(&wrap("v1", "Pod", &body));
    }

    #[test]
    fn mutated_bodies_never_panic(
        value in arb_object(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..4),
    ) {
        let mut body = encode_with(&value, true).unwrap();
        for (at, byte, op) in edits {
            if body.is_empty() { break; }
            let i = at.index(body.len());
            match op {
                0 => body[i] = byte,
                1 => body.truncate(i),
                _ => body.insert(i, byte),
            }
        }
        let _ = decode(&body);
    }

    #[test]
    fn rfc3339_round_trips(secs in -62_135_596_799i64..=253_402_300_799) {
        prop_assert_eq!(parse_rfc3339(&format_rfc3339(secs).unwrap()), Some(secs));
    }

    #[test]
    fn base64_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        prop_assert_eq!(base64_decode(&base64_encode(&bytes)), Some(bytes));
    }
}
