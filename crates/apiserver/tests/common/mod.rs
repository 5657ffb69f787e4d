//! A real API server in the test's process: the built-in kinds, admission
//! that admits everything, HTTPS on a loopback port with a fresh
//! certificate authority and token, the controllers running; and a
//! kube-rs client made from the kubeconfig the server hands out.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use palisade_apimachinery::store::Store;
use palisade_apiserver::tls::Credentials;
use palisade_apiserver::{kinds, AdmitAll, Api, Server};

/// A running server and a client of it.
pub struct TestServer {
    pub api: Arc<Api>,
    pub server: Arc<Server>,
    pub creds: Credentials,
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// The kubeconfig text (CA and token).
    pub kubeconfig: String,
    pub client: Client,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// A server over the default store.
    pub async fn start() -> TestServer {
        Self::with_store(Store::default()).await
    }

    /// A server over `store` (`Store::new(history)` to compact early).
    pub async fn with_store(store: Store) -> TestServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let api = Api::new(kinds::builtin(), Box::new(AdmitAll), store);
        let creds = Credentials::generate("test").expect("credentials");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let server = Arc::new(Server::new(
            api.clone(),
            creds.token.clone(),
            address.clone(),
        ));
        let tls = creds.server_config().expect("TLS config");
        tokio::spawn(palisade_apiserver::serve(listener, tls, server.clone()));
        let kubeconfig = creds.kubeconfig(&address, "test");
        let client = client_from(&kubeconfig).await;
        TestServer {
            api,
            server,
            creds,
            address,
            kubeconfig,
            client,
        }
    }

    /// A client that presents `token` instead of the server's.
    pub async fn client_with_token(&self, token: &str) -> Client {
        client_from(&self.kubeconfig.replace(&self.creds.token, token)).await
    }
}

/// A kube-rs client from kubeconfig text.
pub async fn client_from(kubeconfig: &str) -> Client {
    let kc = Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is usable");
    Client::try_from(config).expect("client")
}

/// Polls `check` every 20 ms until it returns `Some` (panics after `limit`).
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = tokio::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if start.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
