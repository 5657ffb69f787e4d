//! The Kubernetes API's machinery, as the lab's API server
//! (`palisade-apiserver`) needs it, with no I/O: what the API server of a
//! cluster does between reading a request and writing its reply.
//!
//! - [`resource`]: a kind the server serves is one [`resource::Resource`]
//!   registration (names, scope, short names, schema, table columns); a
//!   CRD-backed kind is one more.
//! - [`store`]: objects as JSON, `resourceVersion`s, the watch history
//!   (410 Gone when a watch starts before it).
//! - [`selector`]: label and field selectors.
//! - [`patch`]: JSON merge patch, strategic merge patch (with its
//!   directives), JSON patch.
//! - [`proto`]: protobuf request bodies (what `kubectl create ns` and
//!   `create deployment` send) to JSON.
//! - [`openapi`] and [`strict`]: OpenAPI v3 documents generated from the
//!   types, and server-side field validation against the same schemas.
//! - [`status`]: `Status` errors with the API's reasons and codes.
//! - [`table`]: the `Table` format `kubectl get` asks for.
//! - [`discovery`]: `/version`, `/api`, `/apis` (aggregated discovery v2).

pub mod discovery;
pub mod openapi;
pub mod patch;
pub mod proto;
pub mod resource;
pub mod selector;
pub mod status;
pub mod store;
pub mod strict;
pub mod table;
pub mod time;

pub use resource::{Registry, Resource};
pub use status::Status;
