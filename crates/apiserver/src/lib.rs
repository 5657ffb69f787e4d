//! The lab's Kubernetes API server: the HTTP side of
//! `palisade-apimachinery`.
//!
//! Streaming subresources, self-contained for the router to call:
//! - [`session`]: processes reachable as streams (exec, and attachable
//!   pod processes);
//! - [`websocket`]: the `v5.channel.k8s.io` WebSocket protocol of
//!   `exec` and `attach`;
//! - [`logs`]: `pods/log` bodies, with `follow`.

pub mod logs;
pub mod session;
pub mod websocket;
