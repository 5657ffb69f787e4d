//! Protobuf request bodies (`Content-Type: application/vnd.kubernetes.protobuf`)
//! to the JSON objects the API would have received as JSON.
//!
//! `kubectl create namespace` and `kubectl create deployment` use typed
//! clients that POST protobuf, and kubectl 1.32 does not retry with JSON
//! after a 415. This module turns such a body into the `serde_json::Value`
//! that `kubectl create ... --dry-run=client -o json` would have sent, so
//! the rest of the server only ever sees JSON.
//!
//! # The wire
//!
//! A body is [`MAGIC`] (`"k8s\0"`) followed by a `runtime.Unknown`:
//! `typeMeta = 1` (`{apiVersion = 1, kind = 2}`), `raw = 2` (the object's
//! own protobuf), `contentEncoding = 3`, `contentType = 4`. `raw` follows
//! the group's `generated.proto` (k8s.io/api `core/v1`, `apps/v1`;
//! apimachinery `meta/v1`, `util/intstr`, `api/resource`), whose field
//! names are the JSON names. Field numbers here were taken from those
//! files at v0.32.5.
//!
//! # How it decodes
//!
//! A small wire-format reader (varints, length-delimited, fixed32/64) is
//! driven by a schema table: each message is a list of
//! `field number -> (JSON name, type, cardinality)` rows, so supporting one
//! more message is adding rows. Types: string, bytes (base64 in JSON, as Go
//! does for `[]byte`), int32, int64, bool, a nested message, an *inline*
//! message (Go's embedded struct, e.g. `LocalObjectReference` in
//! `ConfigMapKeySelector`: its fields land in the parent object),
//! `map<string, T>`, and three special messages: `meta.v1.Time`
//! (`{seconds, nanos}` to an RFC 3339 string with second precision, as
//! `metav1.Time` marshals to JSON), `intstr.IntOrString`
//! (`{type, intVal, strVal}` to a number or a string) and
//! `resource.Quantity` (`{string}` to a string).
//!
//! # The zero-value rule
//!
//! Kubernetes' gogo-generated marshallers encode every non-pointer Go field,
//! set or not: `generation: 0`, `paused: false`, `""` strings, empty nested
//! messages. Pointer fields (`*int32`, `*bool`, `*string`, `*Struct`) are
//! encoded only when non-nil. So:
//!
//! - a field that is a **value** in Go (cardinality `Opt` in the table) is
//!   dropped when it decodes to its zero value: `0`, `false`, `""`, an empty
//!   object (a nested message whose fields were all dropped), a zero
//!   `Time`. This is what `omitempty` does in JSON, and it is also what the
//!   observed decodes look like. Caveat: a handful of Go value fields have
//!   no `omitempty` (`containerPort`, `ServicePort.port`, `EnvVar.name`,
//!   `OwnerReference.uid`, ...), and `omitempty` does not apply to structs
//!   (`resources: {}`, `strategy: {}`, `targetPort: 0` would be in Go's
//!   JSON); those are dropped too when zero. A zero there is invalid or
//!   equivalent to absent for the API's validation and defaulting.
//! - a field that is a **pointer** in Go (`Ptr`) is kept whenever it is
//!   present on the wire, even with a zero value: `replicas: 0`,
//!   `automountServiceAccountToken: false`, `selector: {}`. The one
//!   exception is a present but zero `Time`, which Go's JSON writes as
//!   `null`; it is dropped.
//! - repeated fields and maps are dropped when empty (`omitempty`); their
//!   elements are kept as they are (`args: [""]`, `labels: {"a": ""}`, an
//!   element `{}` in a list of messages).
//!
//! # Fields outside the table
//!
//! A field number the table does not know is accepted only when it carries
//! a zero value (varint 0, an empty string, or a nested message made only
//! of zero values): that is what gogo writes for an unset Go value field.
//! Anything else is an error naming the message and the field number, so
//! nothing a client set is dropped silently; such a client can send JSON.
//! (The limit of telling "unset" from "set to zero" without the schema: a
//! pointer field or a list element outside the table that holds only zero
//! values, such as `securityContext: {}` or `volumes: [{}]`, is dropped.)
//! Not in the table: `managedFields`, pod `volumes`, `securityContext`,
//! `affinity`, `dnsConfig`, `topologySpreadConstraints`,
//! `ephemeralContainers`, `resourceClaims`; container probes, `lifecycle`,
//! `securityContext`, `volumeDevices`, `resizePolicy`; and the `status` of
//! Pods and Services (kubectl never sends a non-zero one).
//!
//! # Robustness
//!
//! Decoding never panics, reads every byte at most a bounded number of
//! times, and nests at most [`MAX_DEPTH`] messages deep. Groups (wire
//! types 3 and 4) are rejected, as Kubernetes never uses them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The prefix of every Kubernetes protobuf body: `"k8s\0"`.
pub const MAGIC: [u8; 4] = *b"k8s\0";

/// The content type of a protobuf body.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// How many messages deep a body may nest (a Deployment's container port is
/// 7 deep).
pub const MAX_DEPTH: usize = 32;

/// Why a protobuf body could not be turned into JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("a protobuf body must start with the magic bytes \"k8s\\x00\"")]
    NoMagic,
    #[error("malformed protobuf in {message}: {reason}")]
    Malformed {
        message: &'static str,
        reason: String,
    },
    #[error("protobuf nests deeper than {MAX_DEPTH} messages")]
    TooDeep,
    #[error(
        "protobuf bodies are accepted for {accepted}, not for {api_version:?} {kind:?}; send JSON"
    )]
    UnsupportedKind {
        api_version: String,
        kind: String,
        accepted: String,
    },
    #[error(
        "protobuf field number {number} of {message} is not supported by this server; send JSON"
    )]
    UnsupportedField { message: &'static str, number: u32 },
    #[error("protobuf body with content encoding {0:?} is not supported; send JSON")]
    UnsupportedEncoding(String),
    #[error("runtime.Unknown with content type {0:?} is not supported; send JSON")]
    UnsupportedContentType(String),
    #[error("cannot encode as protobuf: {0}")]
    Encode(String),
}

fn malformed(message: &'static str, reason: impl Into<String>) -> ProtoError {
    ProtoError::Malformed {
        message,
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------
// The schema table.

/// A field's type.
#[derive(Debug, Clone, Copy)]
enum Ty {
    Str,
    /// `bytes`; base64 (standard, padded) in JSON.
    Bytes,
    Int32,
    Int64,
    Bool,
    Msg(&'static Msg),
    /// A Go embedded struct (`json:",inline"`): its fields go in the parent.
    Inline(&'static Msg),
    /// `map<string, V>` (V one of the scalar-like types).
    Map(&'static Ty),
    /// `meta.v1.Time`, an RFC 3339 string in JSON.
    Time,
    /// `intstr.IntOrString`, a number or a string in JSON.
    IntOrString,
    /// `resource.Quantity`, a string in JSON.
    Quantity,
}

/// A field's cardinality, and whether it is a pointer in Go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Card {
    /// A value field in Go: dropped when zero.
    Opt,
    /// A pointer in Go: kept when present, even when zero.
    Ptr,
    /// A slice: dropped when empty.
    Rep,
}

#[derive(Debug)]
struct Field {
    num: u32,
    name: &'static str,
    ty: Ty,
    card: Card,
}

#[derive(Debug)]
struct Msg {
    name: &'static str,
    fields: &'static [Field],
}

impl Msg {
    fn field(&self, num: u32) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.num == num)
    }
}

const fn opt(num: u32, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        card: Card::Opt,
    }
}
const fn ptr(num: u32, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        card: Card::Ptr,
    }
}
const fn rep(num: u32, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        card: Card::Rep,
    }
}

use Ty::{Bool, Bytes, Int32, Int64, IntOrString, Quantity, Str, Time};

static STR: Ty = Str;
static BYTES: Ty = Bytes;
static QUANTITY: Ty = Quantity;

// runtime
static TYPE_META: Msg = Msg {
    name: "TypeMeta",
    fields: &[opt(1, "apiVersion", Str), opt(2, "kind", Str)],
};
// The wire forms of the special messages.
static TIMESTAMP: Msg = Msg {
    name: "Time",
    fields: &[opt(1, "seconds", Int64), opt(2, "nanos", Int32)],
};
static INT_OR_STRING: Msg = Msg {
    name: "IntOrString",
    fields: &[
        opt(1, "type", Int64),
        opt(2, "intVal", Int32),
        opt(3, "strVal", Str),
    ],
};
static QUANTITY_MSG: Msg = Msg {
    name: "Quantity",
    fields: &[opt(1, "string", Str)],
};

// meta/v1
static OBJECT_META: Msg = Msg {
    name: "ObjectMeta",
    fields: &[
        opt(1, "name", Str),
        opt(2, "generateName", Str),
        opt(3, "namespace", Str),
        opt(4, "selfLink", Str),
        opt(5, "uid", Str),
        opt(6, "resourceVersion", Str),
        opt(7, "generation", Int64),
        opt(8, "creationTimestamp", Time),
        ptr(9, "deletionTimestamp", Time),
        ptr(10, "deletionGracePeriodSeconds", Int64),
        opt(11, "labels", Ty::Map(&STR)),
        opt(12, "annotations", Ty::Map(&STR)),
        rep(13, "ownerReferences", Ty::Msg(&OWNER_REFERENCE)),
        rep(14, "finalizers", Str),
    ],
};
static OWNER_REFERENCE: Msg = Msg {
    name: "OwnerReference",
    fields: &[
        opt(1, "kind", Str),
        opt(3, "name", Str),
        opt(4, "uid", Str),
        opt(5, "apiVersion", Str),
        ptr(6, "controller", Bool),
        ptr(7, "blockOwnerDeletion", Bool),
    ],
};
static LABEL_SELECTOR: Msg = Msg {
    name: "LabelSelector",
    fields: &[
        opt(1, "matchLabels", Ty::Map(&STR)),
        rep(2, "matchExpressions", Ty::Msg(&LABEL_SELECTOR_REQUIREMENT)),
    ],
};
static LABEL_SELECTOR_REQUIREMENT: Msg = Msg {
    name: "LabelSelectorRequirement",
    fields: &[
        opt(1, "key", Str),
        opt(2, "operator", Str),
        rep(3, "values", Str),
    ],
};

// core/v1: Namespace
static NAMESPACE: Msg = Msg {
    name: "Namespace",
    fields: &[
        opt(1, "metadata", Ty::Msg(&OBJECT_META)),
        opt(2, "spec", Ty::Msg(&NAMESPACE_SPEC)),
        opt(3, "status", Ty::Msg(&NAMESPACE_STATUS)),
    ],
};
static NAMESPACE_SPEC: Msg = Msg {
    name: "NamespaceSpec",
    fields: &[rep(1, "finalizers", Str)],
};
static NAMESPACE_STATUS: Msg = Msg {
    name: "NamespaceStatus",
    fields: &[
        opt(1, "phase", Str),
        rep(2, "conditions", Ty::Msg(&NAMESPACE_CONDITION)),
    ],
};
static NAMESPACE_CONDITION: Msg = Msg {
    name: "NamespaceCondition",
    fields: &[
        opt(1, "type", Str),
        opt(2, "status", Str),
        opt(4, "lastTransitionTime", Time),
        opt(5, "reason", Str),
        opt(6, "message", Str),
    ],
};

// core/v1: Pod, PodTemplateSpec, PodSpec, Container
static POD: Msg = Msg {
    name: "Pod",
    fields: &[
        opt(1, "metadata", Ty::Msg(&OBJECT_META)),
        opt(2, "spec", Ty::Msg(&POD_SPEC)),
    ],
};
static POD_TEMPLATE_SPEC: Msg = Msg {
    name: "PodTemplateSpec",
    fields: &[
        opt(1, "metadata", Ty::Msg(&OBJECT_META)),
        opt(2, "spec", Ty::Msg(&POD_SPEC)),
    ],
};
static POD_SPEC: Msg = Msg {
    name: "PodSpec",
    fields: &[
        rep(2, "containers", Ty::Msg(&CONTAINER)),
        opt(3, "restartPolicy", Str),
        ptr(4, "terminationGracePeriodSeconds", Int64),
        ptr(5, "activeDeadlineSeconds", Int64),
        opt(6, "dnsPolicy", Str),
        opt(7, "nodeSelector", Ty::Map(&STR)),
        opt(8, "serviceAccountName", Str),
        opt(9, "serviceAccount", Str),
        opt(10, "nodeName", Str),
        opt(11, "hostNetwork", Bool),
        opt(12, "hostPID", Bool),
        opt(13, "hostIPC", Bool),
        rep(15, "imagePullSecrets", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        opt(16, "hostname", Str),
        opt(17, "subdomain", Str),
        opt(19, "schedulerName", Str),
        rep(20, "initContainers", Ty::Msg(&CONTAINER)),
        ptr(21, "automountServiceAccountToken", Bool),
        rep(22, "tolerations", Ty::Msg(&TOLERATION)),
        rep(23, "hostAliases", Ty::Msg(&HOST_ALIAS)),
        opt(24, "priorityClassName", Str),
        ptr(25, "priority", Int32),
        ptr(27, "shareProcessNamespace", Bool),
        rep(28, "readinessGates", Ty::Msg(&POD_READINESS_GATE)),
        ptr(29, "runtimeClassName", Str),
        ptr(30, "enableServiceLinks", Bool),
        ptr(31, "preemptionPolicy", Str),
        opt(32, "overhead", Ty::Map(&QUANTITY)),
        ptr(35, "setHostnameAsFQDN", Bool),
        ptr(36, "os", Ty::Msg(&POD_OS)),
        ptr(37, "hostUsers", Bool),
        rep(38, "schedulingGates", Ty::Msg(&POD_SCHEDULING_GATE)),
        ptr(40, "resources", Ty::Msg(&RESOURCE_REQUIREMENTS)),
    ],
};
static LOCAL_OBJECT_REFERENCE: Msg = Msg {
    name: "LocalObjectReference",
    fields: &[opt(1, "name", Str)],
};
static TOLERATION: Msg = Msg {
    name: "Toleration",
    fields: &[
        opt(1, "key", Str),
        opt(2, "operator", Str),
        opt(3, "value", Str),
        opt(4, "effect", Str),
        ptr(5, "tolerationSeconds", Int64),
    ],
};
static HOST_ALIAS: Msg = Msg {
    name: "HostAlias",
    fields: &[opt(1, "ip", Str), rep(2, "hostnames", Str)],
};
static POD_READINESS_GATE: Msg = Msg {
    name: "PodReadinessGate",
    fields: &[opt(1, "conditionType", Str)],
};
static POD_OS: Msg = Msg {
    name: "PodOS",
    fields: &[opt(1, "name", Str)],
};
static POD_SCHEDULING_GATE: Msg = Msg {
    name: "PodSchedulingGate",
    fields: &[opt(1, "name", Str)],
};
static CONTAINER: Msg = Msg {
    name: "Container",
    fields: &[
        opt(1, "name", Str),
        opt(2, "image", Str),
        rep(3, "command", Str),
        rep(4, "args", Str),
        opt(5, "workingDir", Str),
        rep(6, "ports", Ty::Msg(&CONTAINER_PORT)),
        rep(7, "env", Ty::Msg(&ENV_VAR)),
        opt(8, "resources", Ty::Msg(&RESOURCE_REQUIREMENTS)),
        rep(9, "volumeMounts", Ty::Msg(&VOLUME_MOUNT)),
        opt(13, "terminationMessagePath", Str),
        opt(14, "imagePullPolicy", Str),
        opt(16, "stdin", Bool),
        opt(17, "stdinOnce", Bool),
        opt(18, "tty", Bool),
        rep(19, "envFrom", Ty::Msg(&ENV_FROM_SOURCE)),
        opt(20, "terminationMessagePolicy", Str),
        ptr(24, "restartPolicy", Str),
    ],
};
static CONTAINER_PORT: Msg = Msg {
    name: "ContainerPort",
    fields: &[
        opt(1, "name", Str),
        opt(2, "hostPort", Int32),
        opt(3, "containerPort", Int32),
        opt(4, "protocol", Str),
        opt(5, "hostIP", Str),
    ],
};
static ENV_VAR: Msg = Msg {
    name: "EnvVar",
    fields: &[
        opt(1, "name", Str),
        opt(2, "value", Str),
        ptr(3, "valueFrom", Ty::Msg(&ENV_VAR_SOURCE)),
    ],
};
static ENV_VAR_SOURCE: Msg = Msg {
    name: "EnvVarSource",
    fields: &[
        ptr(1, "fieldRef", Ty::Msg(&OBJECT_FIELD_SELECTOR)),
        ptr(2, "resourceFieldRef", Ty::Msg(&RESOURCE_FIELD_SELECTOR)),
        ptr(3, "configMapKeyRef", Ty::Msg(&KEY_SELECTOR)),
        ptr(4, "secretKeyRef", Ty::Msg(&KEY_SELECTOR)),
    ],
};
static OBJECT_FIELD_SELECTOR: Msg = Msg {
    name: "ObjectFieldSelector",
    fields: &[opt(1, "apiVersion", Str), opt(2, "fieldPath", Str)],
};
static RESOURCE_FIELD_SELECTOR: Msg = Msg {
    name: "ResourceFieldSelector",
    fields: &[
        opt(1, "containerName", Str),
        opt(2, "resource", Str),
        opt(3, "divisor", Quantity),
    ],
};
/// `ConfigMapKeySelector` and `SecretKeySelector` have the same fields.
static KEY_SELECTOR: Msg = Msg {
    name: "KeySelector",
    fields: &[
        opt(
            1,
            "localObjectReference",
            Ty::Inline(&LOCAL_OBJECT_REFERENCE),
        ),
        opt(2, "key", Str),
        ptr(3, "optional", Bool),
    ],
};
static ENV_FROM_SOURCE: Msg = Msg {
    name: "EnvFromSource",
    fields: &[
        opt(1, "prefix", Str),
        ptr(2, "configMapRef", Ty::Msg(&ENV_SOURCE)),
        ptr(3, "secretRef", Ty::Msg(&ENV_SOURCE)),
    ],
};
/// `ConfigMapEnvSource` and `SecretEnvSource` have the same fields.
static ENV_SOURCE: Msg = Msg {
    name: "EnvSource",
    fields: &[
        opt(
            1,
            "localObjectReference",
            Ty::Inline(&LOCAL_OBJECT_REFERENCE),
        ),
        ptr(2, "optional", Bool),
    ],
};
static RESOURCE_REQUIREMENTS: Msg = Msg {
    name: "ResourceRequirements",
    fields: &[
        opt(1, "limits", Ty::Map(&QUANTITY)),
        opt(2, "requests", Ty::Map(&QUANTITY)),
        rep(3, "claims", Ty::Msg(&RESOURCE_CLAIM)),
    ],
};
static RESOURCE_CLAIM: Msg = Msg {
    name: "ResourceClaim",
    fields: &[opt(1, "name", Str), opt(2, "request", Str)],
};
static VOLUME_MOUNT: Msg = Msg {
    name: "VolumeMount",
    fields: &[
        opt(1, "name", Str),
        opt(2, "readOnly", Bool),
        opt(3, "mountPath", Str),
        opt(4, "subPath", Str),
        ptr(5, "mountPropagation", Str),
        opt(6, "subPathExpr", Str),
        ptr(7, "recursiveReadOnly", Str),
    ],
};

// core/v1: Service
static SERVICE: Msg = Msg {
    name: "Service",
    fields: &[
        opt(1, "metadata", Ty::Msg(&OBJECT_META)),
        opt(2, "spec", Ty::Msg(&SERVICE_SPEC)),
    ],
};
static SERVICE_SPEC: Msg = Msg {
    name: "ServiceSpec",
    fields: &[
        rep(1, "ports", Ty::Msg(&SERVICE_PORT)),
        opt(2, "selector", Ty::Map(&STR)),
        opt(3, "clusterIP", Str),
        opt(4, "type", Str),
        rep(5, "externalIPs", Str),
        opt(7, "sessionAffinity", Str),
        opt(8, "loadBalancerIP", Str),
        rep(9, "loadBalancerSourceRanges", Str),
        opt(10, "externalName", Str),
        opt(11, "externalTrafficPolicy", Str),
        opt(12, "healthCheckNodePort", Int32),
        opt(13, "publishNotReadyAddresses", Bool),
        ptr(
            14,
            "sessionAffinityConfig",
            Ty::Msg(&SESSION_AFFINITY_CONFIG),
        ),
        ptr(17, "ipFamilyPolicy", Str),
        rep(18, "clusterIPs", Str),
        rep(19, "ipFamilies", Str),
        ptr(20, "allocateLoadBalancerNodePorts", Bool),
        ptr(21, "loadBalancerClass", Str),
        ptr(22, "internalTrafficPolicy", Str),
        ptr(23, "trafficDistribution", Str),
    ],
};
static SERVICE_PORT: Msg = Msg {
    name: "ServicePort",
    fields: &[
        opt(1, "name", Str),
        opt(2, "protocol", Str),
        opt(3, "port", Int32),
        opt(4, "targetPort", IntOrString),
        opt(5, "nodePort", Int32),
        ptr(6, "appProtocol", Str),
    ],
};
static SESSION_AFFINITY_CONFIG: Msg = Msg {
    name: "SessionAffinityConfig",
    fields: &[ptr(1, "clientIP", Ty::Msg(&CLIENT_IP_CONFIG))],
};
static CLIENT_IP_CONFIG: Msg = Msg {
    name: "ClientIPConfig",
    fields: &[ptr(1, "timeoutSeconds", Int32)],
};

// core/v1: ConfigMap
static CONFIG_MAP: Msg = Msg {
    name: "ConfigMap",
    fields: &[
        opt(1, "metadata", Ty::Msg(&OBJECT_META)),
        opt(2, "data", Ty::Map(&STR)),
        opt(3, "binaryData", Ty::Map(&BYTES)),
        ptr(4, "immutable", Bool),
    ],
};

// apps/v1: Deployment
static DEPLOYMENT: Msg = Msg {
    name: "Deployment",
    fields: &[
        opt(1, "metadata", Ty::Msg(&OBJECT_META)),
        opt(2, "spec", Ty::Msg(&DEPLOYMENT_SPEC)),
        opt(3, "status", Ty::Msg(&DEPLOYMENT_STATUS)),
    ],
};
static DEPLOYMENT_SPEC: Msg = Msg {
    name: "DeploymentSpec",
    fields: &[
        ptr(1, "replicas", Int32),
        ptr(2, "selector", Ty::Msg(&LABEL_SELECTOR)),
        opt(3, "template", Ty::Msg(&POD_TEMPLATE_SPEC)),
        opt(4, "strategy", Ty::Msg(&DEPLOYMENT_STRATEGY)),
        opt(5, "minReadySeconds", Int32),
        ptr(6, "revisionHistoryLimit", Int32),
        opt(7, "paused", Bool),
        ptr(9, "progressDeadlineSeconds", Int32),
    ],
};
static DEPLOYMENT_STRATEGY: Msg = Msg {
    name: "DeploymentStrategy",
    fields: &[
        opt(1, "type", Str),
        ptr(2, "rollingUpdate", Ty::Msg(&ROLLING_UPDATE_DEPLOYMENT)),
    ],
};
static ROLLING_UPDATE_DEPLOYMENT: Msg = Msg {
    name: "RollingUpdateDeployment",
    fields: &[
        ptr(1, "maxUnavailable", IntOrString),
        ptr(2, "maxSurge", IntOrString),
    ],
};
static DEPLOYMENT_STATUS: Msg = Msg {
    name: "DeploymentStatus",
    fields: &[
        opt(1, "observedGeneration", Int64),
        opt(2, "replicas", Int32),
        opt(3, "updatedReplicas", Int32),
        opt(4, "availableReplicas", Int32),
        opt(5, "unavailableReplicas", Int32),
        rep(6, "conditions", Ty::Msg(&DEPLOYMENT_CONDITION)),
        opt(7, "readyReplicas", Int32),
        ptr(8, "collisionCount", Int32),
    ],
};
static DEPLOYMENT_CONDITION: Msg = Msg {
    name: "DeploymentCondition",
    fields: &[
        opt(1, "type", Str),
        opt(2, "status", Str),
        opt(4, "reason", Str),
        opt(5, "message", Str),
        opt(6, "lastUpdateTime", Time),
        opt(7, "lastTransitionTime", Time),
    ],
};

/// The kinds a protobuf body may carry: `(apiVersion, kind, message)`.
static KINDS: &[(&str, &str, &Msg)] = &[
    ("v1", "Namespace", &NAMESPACE),
    ("v1", "Pod", &POD),
    ("v1", "Service", &SERVICE),
    ("v1", "ConfigMap", &CONFIG_MAP),
    ("apps/v1", "Deployment", &DEPLOYMENT),
];

/// The `(apiVersion, kind)`s [`decode`] accepts.
pub fn supported_kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    KINDS.iter().map(|&(v, k, _)| (v, k))
}

fn lookup_kind(api_version: &str, kind: &str) -> Result<&'static Msg, ProtoError> {
    KINDS
        .iter()
        .find(|&&(v, k, _)| v == api_version && k == kind)
        .map(|&(_, _, m)| m)
        .ok_or_else(|| ProtoError::UnsupportedKind {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            accepted: KINDS
                .iter()
                .map(|(v, k, _)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

// ---------------------------------------------------------------------------
// The wire-format reader.

const WIRE_VARINT: u8 = 0;
const WIRE_FIXED64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_FIXED32: u8 = 5;

#[derive(Debug)]
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    msg: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], msg: &'static str) -> Self {
        Reader { buf, pos: 0, msg }
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(malformed(self.msg, "truncated varint"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(malformed(self.msg, "varint overflows 64 bits"));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed(self.msg, "varint longer than 10 bytes"))
    }

    /// A field key: `(field number, wire type)`.
    fn key(&mut self) -> Result<(u32, u8), ProtoError> {
        let key = self.varint()?;
        let num = key >> 3;
        let wire = (key & 7) as u8;
        if num == 0 || num > 0x1fff_ffff {
            return Err(malformed(self.msg, format!("invalid field number {num}")));
        }
        match wire {
            WIRE_VARINT | WIRE_FIXED64 | WIRE_LEN | WIRE_FIXED32 => Ok((num as u32, wire)),
            3 | 4 => Err(malformed(
                self.msg,
                format!(
                    "field {num} uses a group (wire type {wire}), which Kubernetes never sends"
                ),
            )),
            _ => Err(malformed(
                self.msg,
                format!("field {num} has invalid wire type {wire}"),
            )),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| malformed(self.msg, "truncated field"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn len_delimited(&mut self) -> Result<&'a [u8], ProtoError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| malformed(self.msg, "length too large"))?;
        self.take(n)
    }

    /// A field's value as raw bytes/number, whatever its wire type.
    fn value(&mut self, wire: u8) -> Result<WireValue<'a>, ProtoError> {
        Ok(match wire {
            WIRE_VARINT => WireValue::Varint(self.varint()?),
            WIRE_FIXED64 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                WireValue::Fixed(u64::from_le_bytes(a))
            }
            WIRE_FIXED32 => {
                let b = self.take(4)?;
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                WireValue::Fixed(u64::from(u32::from_le_bytes(a)))
            }
            _ => WireValue::Len(self.len_delimited()?),
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum WireValue<'a> {
    Varint(u64),
    Fixed(u64),
    Len(&'a [u8]),
}

/// Whether `bytes`, read as a message, holds nothing but zero values
/// (what gogo writes for an unset Go struct). Anything that does not parse
/// as a message is not zero.
fn is_zero_message(bytes: &[u8], depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let mut r = Reader::new(bytes, "");
    while !r.done() {
        let Ok((_, wire)) = r.key() else {
            return false;
        };
        match r.value(wire) {
            Ok(WireValue::Varint(0) | WireValue::Fixed(0)) => {}
            Ok(WireValue::Len(b)) if b.is_empty() || is_zero_message(b, depth + 1) => {}
            _ => return false,
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Decoding.

/// Decodes a protobuf request body (starting with [`MAGIC`]) into the JSON
/// object it stands for, with `apiVersion` and `kind` set from the
/// `runtime.Unknown`'s `typeMeta`. See the module documentation for which
/// kinds are accepted and how zero values are treated.
pub fn decode(body: &[u8]) -> Result<Value, ProtoError> {
    let rest = body.strip_prefix(&MAGIC).ok_or(ProtoError::NoMagic)?;
    let mut r = Reader::new(rest, "runtime.Unknown");
    let mut type_meta = Map::new();
    let mut raw: &[u8] = &[];
    let mut content_encoding = String::new();
    let mut content_type = String::new();
    while !r.done() {
        let (num, wire) = r.key()?;
        let value = r.value(wire)?;
        match (num, value) {
            (1, WireValue::Len(b)) => decode_into(&TYPE_META, b, 1, &mut type_meta)?,
            (2, WireValue::Len(b)) => raw = b,
            (3, WireValue::Len(b)) => content_encoding = utf8("runtime.Unknown", b)?,
            (4, WireValue::Len(b)) => content_type = utf8("runtime.Unknown", b)?,
            (1..=4, _) => {
                return Err(malformed(
                    "runtime.Unknown",
                    format!("field {num} has wire type {wire}, expected 2"),
                ))
            }
            (_, v) => check_unknown_zero("runtime.Unknown", num, v, 1)?,
        }
    }
    if !content_encoding.is_empty() {
        return Err(ProtoError::UnsupportedEncoding(content_encoding));
    }
    if !content_type.is_empty() && content_type != CONTENT_TYPE {
        return Err(ProtoError::UnsupportedContentType(content_type));
    }
    let text = |k: &str| match type_meta.get(k) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let msg = lookup_kind(&api_version, &kind)?;
    let mut object = Map::new();
    object.insert("apiVersion".into(), Value::String(api_version));
    object.insert("kind".into(), Value::String(kind));
    decode_into(msg, raw, 1, &mut object)?;
    Ok(Value::Object(object))
}

fn utf8(msg: &'static str, b: &[u8]) -> Result<String, ProtoError> {
    String::from_utf8(b.to_vec()).map_err(|_| malformed(msg, "string is not valid UTF-8"))
}

fn check_unknown_zero(
    msg: &'static str,
    num: u32,
    value: WireValue<'_>,
    depth: usize,
) -> Result<(), ProtoError> {
    let zero = match value {
        WireValue::Varint(v) | WireValue::Fixed(v) => v == 0,
        WireValue::Len(b) => b.is_empty() || is_zero_message(b, depth + 1),
    };
    if zero {
        Ok(())
    } else {
        Err(ProtoError::UnsupportedField {
            message: msg,
            number: num,
        })
    }
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0) || n.as_u64() == Some(0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Decodes `bytes` as `msg`, adding its fields to `out`.
fn decode_into(
    msg: &'static Msg,
    bytes: &[u8],
    depth: usize,
    out: &mut Map<String, Value>,
) -> Result<(), ProtoError> {
    if depth > MAX_DEPTH {
        return Err(ProtoError::TooDeep);
    }
    let mut r = Reader::new(bytes, msg.name);
    while !r.done() {
        let (num, wire) = r.key()?;
        let value = r.value(wire)?;
        let Some(field) = msg.field(num) else {
            check_unknown_zero(msg.name, num, value, depth)?;
            continue;
        };
        match (field.card, field.ty) {
            (_, Ty::Inline(inner)) => {
                let WireValue::Len(b) = value else {
                    return Err(wrong_wire(msg, field, wire));
                };
                decode_into(inner, b, depth + 1, out)?;
            }
            (_, Ty::Map(value_ty)) => {
                let WireValue::Len(b) = value else {
                    return Err(wrong_wire(msg, field, wire));
                };
                let (k, v) = decode_map_entry(msg, field, value_ty, b, depth + 1)?;
                let entry = out
                    .entry(field.name)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = entry {
                    m.insert(k, v);
                }
            }
            (Card::Rep, ty) => {
                let mut items = Vec::new();
                match (ty, value) {
                    // Packed repeated scalars.
                    (Int32 | Int64 | Bool, WireValue::Len(b)) => {
                        let mut pr = Reader::new(b, msg.name);
                        while !pr.done() {
                            let v = pr.varint()?;
                            items.push(
                                scalar(ty, WireValue::Varint(v))
                                    .ok_or_else(|| wrong_wire(msg, field, WIRE_VARINT))?,
                            );
                        }
                    }
                    _ => items.push(decode_value(msg, field, wire, value, depth)?),
                }
                let entry = out
                    .entry(field.name)
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(a) = entry {
                    a.extend(items);
                }
            }
            (card, _) => {
                let v = decode_value(msg, field, wire, value, depth)?;
                // A repeated occurrence of a message field merges into the
                // earlier one, as in protobuf; scalars: the last one wins.
                if let (Value::Object(new), Some(Value::Object(old))) =
                    (&v, out.get_mut(field.name))
                {
                    for (k, x) in new {
                        old.insert(k.clone(), x.clone());
                    }
                    continue;
                }
                if v.is_null() || (card == Card::Opt && is_zero(&v)) {
                    out.remove(field.name);
                } else {
                    out.insert(field.name.to_owned(), v);
                }
            }
        }
    }
    // An inline message shares `out` with its parent, so only the top-level
    // call of a message decides about emptiness; see `decode_value`.
    Ok(())
}

fn wrong_wire(msg: &'static Msg, field: &Field, wire: u8) -> ProtoError {
    malformed(
        msg.name,
        format!(
            "field {} ({}) has wire type {wire}, which does not fit its type",
            field.num, field.name
        ),
    )
}

/// A scalar from a varint or fixed value; `None` for a type that is not a
/// varint scalar.
fn scalar(ty: Ty, value: WireValue<'_>) -> Option<Value> {
    let WireValue::Varint(v) = value else {
        return None;
    };
    match ty {
        // int32 is sign-extended to 64 bits on the wire; truncation is the
        // protobuf rule.
        Int32 => Some(Value::from(v as u32 as i32)),
        Int64 => Some(Value::from(v as i64)),
        Bool => Some(Value::Bool(v != 0)),
        _ => None,
    }
}

fn decode_value<'a>(
    msg: &'static Msg,
    field: &Field,
    wire: u8,
    value: WireValue<'a>,
    depth: usize,
) -> Result<Value, ProtoError> {
    let bytes = |value: WireValue<'a>| -> Result<&'a [u8], ProtoError> {
        match value {
            WireValue::Len(b) => Ok(b),
            _ => Err(wrong_wire(msg, field, wire)),
        }
    };
    match field.ty {
        Int32 | Int64 | Bool => scalar(field.ty, value).ok_or_else(|| wrong_wire(msg, field, wire)),
        Str => Ok(Value::String(utf8(msg.name, bytes(value)?)?)),
        Bytes => Ok(Value::String(base64_encode(bytes(value)?))),
        Ty::Msg(inner) => {
            let mut m = Map::new();
            decode_into(inner, bytes(value)?, depth + 1, &mut m)?;
            Ok(Value::Object(m))
        }
        Time => decode_time(bytes(value)?, depth + 1),
        IntOrString => decode_int_or_string(bytes(value)?, depth + 1),
        Quantity => decode_quantity(bytes(value)?, depth + 1),
        Ty::Inline(_) | Ty::Map(_) => Err(malformed(msg.name, "internal: unexpected type")),
    }
}

fn decode_map_entry(
    msg: &'static Msg,
    field: &Field,
    value_ty: &'static Ty,
    bytes: &[u8],
    depth: usize,
) -> Result<(String, Value), ProtoError> {
    if depth > MAX_DEPTH {
        return Err(ProtoError::TooDeep);
    }
    let mut r = Reader::new(bytes, msg.name);
    let mut key = String::new();
    let mut value = None;
    while !r.done() {
        let (num, wire) = r.key()?;
        let v = r.value(wire)?;
        match (num, v) {
            (1, WireValue::Len(b)) => key = utf8(msg.name, b)?,
            (2, v) => {
                let vf = Field {
                    num: field.num,
                    name: field.name,
                    ty: *value_ty,
                    card: Card::Opt,
                };
                value = Some(decode_value(msg, &vf, wire, v, depth)?);
            }
            (1, _) => return Err(wrong_wire(msg, field, wire)),
            (n, v) => check_unknown_zero(msg.name, n, v, depth)?,
        }
    }
    let value = value.unwrap_or_else(|| match value_ty {
        Int32 | Int64 => Value::from(0),
        Bool => Value::Bool(false),
        _ => Value::String(String::new()),
    });
    Ok((key, value))
}

fn sub_fields(
    msg: &'static Msg,
    bytes: &[u8],
    depth: usize,
) -> Result<Map<String, Value>, ProtoError> {
    let mut m = Map::new();
    decode_into(msg, bytes, depth, &mut m)?;
    Ok(m)
}

fn int_of(m: &Map<String, Value>, k: &str) -> i64 {
    m.get(k).and_then(Value::as_i64).unwrap_or(0)
}

/// `meta.v1.Time`: `{seconds, nanos}` to `2006-01-02T15:04:05Z`; a zero
/// time (an empty message, as Go writes it, or the Unix seconds of Go's
/// zero time) to `null`. Nanoseconds are dropped, as metav1.Time does.
fn decode_time(bytes: &[u8], depth: usize) -> Result<Value, ProtoError> {
    /// `time.Time{}.Unix()`: 0001-01-01T00:00:00Z.
    const GO_ZERO_TIME: i64 = -62_135_596_800;
    let m = sub_fields(&TIMESTAMP, bytes, depth)?;
    let seconds = int_of(&m, "seconds");
    if bytes.is_empty() || seconds == GO_ZERO_TIME {
        return Ok(Value::Null);
    }
    format_rfc3339(seconds)
        .map(Value::String)
        .ok_or_else(|| malformed("Time", format!("seconds {seconds} out of range")))
}

fn decode_int_or_string(bytes: &[u8], depth: usize) -> Result<Value, ProtoError> {
    let m = sub_fields(&INT_OR_STRING, bytes, depth)?;
    match int_of(&m, "type") {
        0 => Ok(Value::from(int_of(&m, "intVal"))),
        1 => Ok(m
            .get("strVal")
            .cloned()
            .unwrap_or_else(|| Value::String(String::new()))),
        t => Err(malformed("IntOrString", format!("unknown type {t}"))),
    }
}

fn decode_quantity(bytes: &[u8], depth: usize) -> Result<Value, ProtoError> {
    let m = sub_fields(&QUANTITY_MSG, bytes, depth)?;
    Ok(m.get("string")
        .cloned()
        .unwrap_or_else(|| Value::String(String::new())))
}

// ---------------------------------------------------------------------------
// Time and base64, by hand (no dependency for two small functions).

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian
/// calendar (eras of 400 years).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn format_rfc3339(seconds: i64) -> Option<String> {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(1..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    ))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` to Unix seconds (fraction
/// dropped).
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == i + 6 && b[i + 3] == b':' => {
            let o = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u32, day as u32);
    Some(days * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (ci, chunk) in b.chunks(4).enumerate() {
        let last = ci == b.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = if i >= 4 - pad {
                0
            } else {
                B64.iter().position(|&x| x == c)? as u32
            };
            n |= v << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// Encoding (the inverse, for tests and fixtures).

/// Encodes a JSON object of a supported kind as the protobuf body a typed
/// client would send ([`MAGIC`] + `runtime.Unknown`), using the same table
/// as [`decode`]. Only fields present in the JSON are written (Go would
/// also write the zero values of its value fields; [`decode`] drops those
/// again). Keys the table does not know are an error.
pub fn encode(value: &Value) -> Result<Vec<u8>, ProtoError> {
    encode_with(value, false)
}

/// [`encode`]; with `zeros`, also writes the zero value of every value
/// (`Opt`) field the JSON leaves out, as Go's marshallers do.
fn encode_with(value: &Value, zeros: bool) -> Result<Vec<u8>, ProtoError> {
    let obj = value
        .as_object()
        .ok_or_else(|| ProtoError::Encode("not a JSON object".into()))?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let msg = lookup_kind(api_version, kind)?;
    let mut rest = obj.clone();
    rest.remove("apiVersion");
    rest.remove("kind");
    let mut raw = Vec::new();
    encode_msg(msg, &rest, zeros, 1, &mut raw)?;

    let mut type_meta = Vec::new();
    put_len(&mut type_meta, 1, api_version.as_bytes());
    put_len(&mut type_meta, 2, kind.as_bytes());
    let mut out = MAGIC.to_vec();
    put_len(&mut out, 1, &type_meta);
    put_len(&mut out, 2, &raw);
    // contentEncoding and contentType, empty, as Go writes them.
    put_len(&mut out, 3, b"");
    put_len(&mut out, 4, b"");
    Ok(out)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, num: u32, wire: u8) {
    put_varint(out, u64::from(num) << 3 | u64::from(wire));
}

fn put_len(out: &mut Vec<u8>, num: u32, bytes: &[u8]) {
    put_key(out, num, WIRE_LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn enc_err(msg: &Msg, field: &str, why: &str) -> ProtoError {
    ProtoError::Encode(format!("{}.{field}: {why}", msg.name))
}

/// The JSON keys a message accepts, inline messages included.
fn accepts(msg: &Msg, key: &str) -> bool {
    msg.fields.iter().any(|f| match f.ty {
        Ty::Inline(inner) => accepts(inner, key),
        _ => f.name == key,
    })
}

fn encode_msg(
    msg: &'static Msg,
    obj: &Map<String, Value>,
    zeros: bool,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    if depth > MAX_DEPTH {
        return Err(ProtoError::TooDeep);
    }
    if let Some(k) = obj.keys().find(|k| !accepts(msg, k)) {
        return Err(enc_err(msg, k, "unknown field"));
    }
    let mut fields: Vec<&Field> = msg.fields.iter().collect();
    fields.sort_by_key(|f| f.num);
    for f in fields {
        if let Ty::Inline(inner) = f.ty {
            let own: Map<String, Value> = obj
                .iter()
                .filter(|(k, _)| accepts(inner, k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut sub = Vec::new();
            encode_msg(inner, &own, zeros, depth + 1, &mut sub)?;
            if zeros || !sub.is_empty() {
                put_len(out, f.num, &sub);
            }
            continue;
        }
        match (obj.get(f.name), f.card) {
            (None | Some(Value::Null), Card::Opt) if zeros => {
                encode_zero(f, zeros, depth, out)?;
            }
            (None | Some(Value::Null), _) => {}
            (Some(v), Card::Rep) => {
                let items = v
                    .as_array()
                    .ok_or_else(|| enc_err(msg, f.name, "expected an array"))?;
                for item in items {
                    encode_value(msg, f, item, zeros, depth, out)?;
                }
            }
            (Some(v), _) => encode_value(msg, f, v, zeros, depth, out)?,
        }
    }
    Ok(())
}

fn encode_zero(f: &Field, zeros: bool, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    match f.ty {
        Str | Bytes | Time | Quantity => put_len(out, f.num, b""),
        Int32 | Int64 | Bool => {
            put_key(out, f.num, WIRE_VARINT);
            put_varint(out, 0);
        }
        IntOrString => {
            let mut sub = Vec::new();
            put_key(&mut sub, 1, WIRE_VARINT);
            put_varint(&mut sub, 0);
            put_key(&mut sub, 2, WIRE_VARINT);
            put_varint(&mut sub, 0);
            put_len(&mut sub, 3, b"");
            put_len(out, f.num, &sub);
        }
        Ty::Msg(inner) => {
            let mut sub = Vec::new();
            encode_msg(inner, &Map::new(), zeros, depth + 1, &mut sub)?;
            put_len(out, f.num, &sub);
        }
        // Empty maps are not written; inline handled by the caller.
        Ty::Map(_) | Ty::Inline(_) => {}
    }
    Ok(())
}

fn encode_value(
    msg: &'static Msg,
    f: &Field,
    v: &Value,
    zeros: bool,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    let as_str = || {
        v.as_str()
            .ok_or_else(|| enc_err(msg, f.name, "expected a string"))
    };
    let as_int = |min: i64, max: i64| {
        v.as_i64()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| enc_err(msg, f.name, "expected an integer in range"))
    };
    match f.ty {
        Str => put_len(out, f.num, as_str()?.as_bytes()),
        Bytes => {
            let b =
                base64_decode(as_str()?).ok_or_else(|| enc_err(msg, f.name, "expected base64"))?;
            put_len(out, f.num, &b);
        }
        Int32 => {
            put_key(out, f.num, WIRE_VARINT);
            put_varint(
                out,
                as_int(i64::from(i32::MIN), i64::from(i32::MAX))? as u64,
            );
        }
        Int64 => {
            put_key(out, f.num, WIRE_VARINT);
            put_varint(out, as_int(i64::MIN, i64::MAX)? as u64);
        }
        Bool => {
            let b = v
                .as_bool()
                .ok_or_else(|| enc_err(msg, f.name, "expected a boolean"))?;
            put_key(out, f.num, WIRE_VARINT);
            put_varint(out, u64::from(b));
        }
        Ty::Msg(inner) => {
            let obj = v
                .as_object()
                .ok_or_else(|| enc_err(msg, f.name, "expected an object"))?;
            let mut sub = Vec::new();
            encode_msg(inner, obj, zeros, depth + 1, &mut sub)?;
            put_len(out, f.num, &sub);
        }
        Time => {
            let secs = parse_rfc3339(as_str()?)
                .ok_or_else(|| enc_err(msg, f.name, "expected an RFC 3339 time"))?;
            let mut sub = Vec::new();
            put_key(&mut sub, 1, WIRE_VARINT);
            put_varint(&mut sub, secs as u64);
            put_key(&mut sub, 2, WIRE_VARINT);
            put_varint(&mut sub, 0);
            put_len(out, f.num, &sub);
        }
        IntOrString => {
            let mut sub = Vec::new();
            let (ty, int, s) = match v {
                Value::String(s) => (1, 0, s.as_str()),
                _ => (0, as_int(i64::from(i32::MIN), i64::from(i32::MAX))?, ""),
            };
            put_key(&mut sub, 1, WIRE_VARINT);
            put_varint(&mut sub, ty);
            put_key(&mut sub, 2, WIRE_VARINT);
            put_varint(&mut sub, int as u64);
            put_len(&mut sub, 3, s.as_bytes());
            put_len(out, f.num, &sub);
        }
        Quantity => {
            let mut sub = Vec::new();
            put_len(&mut sub, 1, as_str()?.as_bytes());
            put_len(out, f.num, &sub);
        }
        Ty::Map(value_ty) => {
            let obj = v
                .as_object()
                .ok_or_else(|| enc_err(msg, f.name, "expected an object"))?;
            // Go writes map entries sorted by key.
            let sorted: BTreeMap<&String, &Value> = obj.iter().collect();
            for (k, x) in sorted {
                let mut entry = Vec::new();
                put_len(&mut entry, 1, k.as_bytes());
                let vf = Field {
                    num: 2,
                    name: f.name,
                    ty: *value_ty,
                    card: Card::Opt,
                };
                encode_value(msg, &vf, x, zeros, depth, &mut entry)?;
                put_len(out, f.num, &entry);
            }
        }
        Ty::Inline(_) => return Err(enc_err(msg, f.name, "internal: inline as a value")),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
