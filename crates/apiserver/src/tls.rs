//! The server's credentials: a certificate authority made for this server,
//! a server certificate for 127.0.0.1 and `localhost` signed by it, and a
//! random bearer token; and the kubeconfig that carries the authority and
//! the token to clients. Files are written 0600 (the key and the token are
//! what makes a caller root in the lab).

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// What a server needs and what clients are given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// PEM of the certificate authority (clients trust it).
    pub ca_pem: String,
    /// PEM of the server certificate and its key.
    pub cert_pem: String,
    pub key_pem: String,
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("making the certificates: {0}")]
    Cert(#[from] rcgen::Error),
    #[error("reading the certificates: {0}")]
    Pem(String),
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn random_hex(bytes: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .map_err(|source| Error::Io {
            path: "/dev/urandom".into(),
            source,
        })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

impl Credentials {
    /// New credentials: a CA, a server certificate for 127.0.0.1, ::1 and
    /// localhost, a 256-bit token.
    pub fn generate(name: &str) -> Result<Credentials, Error> {
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name
            .push(DnType::CommonName, format!("palisade lab {name} CA"));
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca, ca_key)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params.distinguished_name.push(
            DnType::CommonName,
            format!("palisade lab {name} API server"),
        );
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
        let cert = params.signed_by(&key, &ca)?;
        Ok(Credentials {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            token: random_hex(32)?,
        })
    }

    /// The rustls configuration serving the certificate.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, Error> {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| Error::Pem(e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| Error::Pem(e.to_string()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// A kubeconfig for `https://<address>` with the CA and the token,
    /// context `<context>` (the namespace `default`).
    pub fn kubeconfig(&self, address: &str, context: &str) -> String {
        let ca = base64(self.ca_pem.as_bytes());
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {context}\n  cluster:\n    server: https://{address}\n    certificate-authority-data: {ca}\nusers:\n- name: {context}-admin\n  user:\n    token: {token}\ncontexts:\n- name: {context}\n  context:\n    cluster: {context}\n    user: {context}-admin\n    namespace: default\ncurrent-context: {context}\n",
            token = self.token
        )
    }

    /// Saves the credentials as one JSON file, 0600.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let text = serde_json::json!({"ca": self.ca_pem, "cert": self.cert_pem, "key": self.key_pem, "token": self.token});
        write_private(path, text.to_string().as_bytes())
    }

    pub fn load(path: &Path) -> Result<Credentials, Error> {
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let text = fs::read_to_string(path).map_err(io)?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::Pem(e.to_string()))?;
        let s = |k: &str| {
            v[k].as_str()
                .map(str::to_string)
                .ok_or_else(|| Error::Pem(format!("{k} missing")))
        };
        Ok(Credentials {
            ca_pem: s("ca")?,
            cert_pem: s("cert")?,
            key_pem: s("key")?,
            token: s("token")?,
        })
    }
}

/// Writes a file readable by its owner only (created 0600, whatever the umask).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    drop(f);
    fs::rename(&tmp, path).map_err(io)
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_serve_and_round_trip() {
        let c = Credentials::generate("t").unwrap();
        assert_eq!(c.token.len(), 64);
        c.server_config().unwrap();
        let dir = std::env::temp_dir().join(format!("palisade-tls-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("creds.json");
        c.save(&p).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(Credentials::load(&p).unwrap(), c);
        let kc = c.kubeconfig("127.0.0.1:6443", "lab");
        assert!(kc.contains("server: https://127.0.0.1:6443") && kc.contains(&c.token));
        fs::remove_dir_all(dir).unwrap();
    }
}
