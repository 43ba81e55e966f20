//! TLS for the center's API (`--tls-cert/--tls-key`): TLS 1.3 only, through rustls with
//! aws-lc-rs, preferring the hybrid post-quantum key exchange X25519MLKEM768 (ML-KEM-768 with
//! X25519, so the session stays as safe as X25519 if ML-KEM falls) and offering the classical
//! groups to clients without it. Compiled with the `tls` feature; a build without it refuses
//! the options with how to get it.

#[cfg(feature = "tls")]
mod imp {
    use std::path::Path;
    use std::sync::Arc;

    use rustls::crypto::aws_lc_rs::{self, kx_group};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::net::TcpStream;

    use crate::CenterError;

    /// The server's crypto provider: aws-lc-rs offering these groups, most preferred first.
    pub fn provider() -> rustls::crypto::CryptoProvider {
        rustls::crypto::CryptoProvider {
            kx_groups: vec![
                kx_group::X25519MLKEM768,
                kx_group::X25519,
                kx_group::SECP256R1,
                kx_group::SECP384R1,
            ],
            ..aws_lc_rs::default_provider()
        }
    }

    /// Accepts TLS connections with the center's certificate.
    #[derive(Clone)]
    pub struct Acceptor(tokio_rustls::TlsAcceptor);

    impl Acceptor {
        pub async fn accept(
            &self,
            stream: TcpStream,
        ) -> std::io::Result<tokio_rustls::server::TlsStream<TcpStream>> {
            self.0.accept(stream).await
        }
    }

    /// The acceptor for the certificate chain and key in these PEM files.
    pub fn acceptor(cert: &Path, key: &Path) -> Result<Acceptor, CenterError> {
        let bad = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
            CenterError::Config(format!(
                "{what} {}: {e} (a PEM file is expected) / 无法读取 TLS {what}",
                path.display()
            ))
        };
        let certs = CertificateDer::pem_file_iter(cert)
            .map_err(|e| bad("certificate", cert, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad("certificate", cert, &e))?;
        if certs.is_empty() {
            return Err(bad("certificate", cert, &"no certificate in the file"));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad("private key", key, &e))?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| CenterError::Config(format!("TLS: {e}")))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| {
                CenterError::Config(format!(
                    "TLS: the certificate and key do not make a usable pair: {e} / 证书与私钥不匹配"
                ))
            })?;
        let mut config = config;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Acceptor(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
    }
}

#[cfg(not(feature = "tls"))]
mod imp {
    use std::path::Path;

    use crate::CenterError;

    /// No TLS in this build: there is no acceptor.
    #[derive(Clone)]
    pub enum Acceptor {}

    pub fn acceptor(_cert: &Path, _key: &Path) -> Result<Acceptor, CenterError> {
        Err(CenterError::Config(
            "this build of touchstone has no TLS; build it with `cargo build --release -p touchstone \
             --features tls` / 此版本未包含 TLS，请以 --features tls 构建"
                .into(),
        ))
    }
}

pub use imp::*;
