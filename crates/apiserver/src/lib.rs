//! The lab's Kubernetes API server: the HTTP side of
//! `palisade-apimachinery`.
