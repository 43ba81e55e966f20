//! Acceptance 5 of issue 14: under TLS the center prefers the hybrid post-quantum key exchange
//! X25519MLKEM768, and classical clients still connect. Clients here are rustls clients that
//! offer exactly the groups named, so the negotiated group is what the test asserts.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::crypto::aws_lc_rs::{self, kx_group};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{NamedGroup, ProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use touchstone_center::{Center, CenterConfig, ProviderFactory, Server, tls};
use touchstone_store::{SqliteStore, Store};

struct Tls {
    _dir: tempfile::TempDir,
    server: Server,
    addr: SocketAddr,
    cert: CertificateDer<'static>,
    admin_password: String,
}

async fn start() -> Tls {
    let dir = tempfile::tempdir().unwrap();
    let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, issued.cert.pem()).unwrap();
    std::fs::write(&key_pem, issued.key_pair.serialize_pem()).unwrap();
    let paths = CenterConfig::in_dir(dir.path());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&paths.db).unwrap());
    let providers: ProviderFactory = Arc::new(touchstone_providers::Keyed::shared);
    let center = Center::open(store, &paths, providers).unwrap();
    let admin_password = center.bootstrap_admin("admin").unwrap().unwrap();
    let acceptor = tls::acceptor(&cert_pem, &key_pem).unwrap();
    let server = Server::start_with(center, "127.0.0.1:0".parse().unwrap(), 0, Some(acceptor))
        .await
        .unwrap();
    Tls {
        addr: server.local_addr(),
        server,
        cert: issued.cert.der().clone(),
        _dir: dir,
        admin_password,
    }
}

/// A client offering exactly `groups` (and TLS `versions`), trusting the center's certificate.
fn client(
    t: &Tls,
    groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> tokio_rustls::TlsConnector {
    let provider = rustls::crypto::CryptoProvider {
        kx_groups: groups,
        ..aws_lc_rs::default_provider()
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(t.cert.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Handshakes, sends one HTTP request, and returns the negotiated group, the TLS version and
/// the response's text.
async fn exchange(
    t: &Tls,
    connector: &tokio_rustls::TlsConnector,
    request: &str,
) -> std::io::Result<(NamedGroup, ProtocolVersion, String)> {
    let tcp = TcpStream::connect(t.addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut stream = connector.connect(name, tcp).await?;
    let (_, conn) = stream.get_ref();
    let group = conn.negotiated_key_exchange_group().unwrap().name();
    let version = conn.protocol_version().unwrap();
    stream.write_all(request.as_bytes()).await?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await?;
    Ok((group, version, text))
}

const HEALTH: &str = "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn a_client_offering_only_x25519mlkem768_gets_it() {
    let t = start().await;
    let pq = client(
        &t,
        vec![kx_group::X25519MLKEM768],
        &[&rustls::version::TLS13],
    );
    let (group, version, text) = exchange(&t, &pq, HEALTH).await.unwrap();
    assert_eq!(group, NamedGroup::X25519MLKEM768);
    assert_eq!(version, ProtocolVersion::TLSv1_3);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    t.server.shutdown().await;
}

#[tokio::test]
async fn the_hybrid_is_preferred_and_classical_clients_still_connect() {
    let t = start().await;
    // A client offering both, as browsers and rustls do (the hybrid's key share first, the
    // classical one beside it), gets the hybrid.
    let both = client(
        &t,
        vec![kx_group::X25519MLKEM768, kx_group::X25519],
        &[&rustls::version::TLS13],
    );
    let (group, _, _) = exchange(&t, &both, HEALTH).await.unwrap();
    assert_eq!(group, NamedGroup::X25519MLKEM768);
    for (classical, name) in [
        (kx_group::X25519, NamedGroup::X25519),
        (kx_group::SECP256R1, NamedGroup::secp256r1),
    ] {
        let c = client(&t, vec![classical], &[&rustls::version::TLS13]);
        let (group, _, text) = exchange(&t, &c, HEALTH).await.unwrap();
        assert_eq!(group, name);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    }
    // TLS 1.2 is not spoken; a plain-HTTP client gets nothing; the server stays up.
    let old = client(&t, vec![kx_group::X25519], &[&rustls::version::TLS12]);
    assert!(exchange(&t, &old, HEALTH).await.is_err());
    let mut plain = TcpStream::connect(t.addr).await.unwrap();
    plain.write_all(HEALTH.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer).await;
    assert!(!String::from_utf8_lossy(&answer).contains("200"));
    let pq = client(
        &t,
        vec![kx_group::X25519MLKEM768],
        &[&rustls::version::TLS13],
    );
    assert!(exchange(&t, &pq, HEALTH).await.is_ok());
    t.server.shutdown().await;
}

#[tokio::test]
async fn session_cookies_are_secure_under_tls() {
    let t = start().await;
    let body = format!(r#"{{"name":"admin","password":"{}"}}"#, t.admin_password);
    let login = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let pq = client(
        &t,
        vec![kx_group::X25519MLKEM768],
        &[&rustls::version::TLS13],
    );
    let (_, _, text) = exchange(&t, &pq, &login).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let cookie = text
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: touchstone_session=")
        })
        .expect("a session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    t.server.shutdown().await;
}

#[test]
fn unreadable_or_mismatched_files_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let Err(e) = tls::acceptor(&missing, &missing) else {
        panic!("a missing file was accepted")
    };
    assert!(e.to_string().contains("missing.pem"), "{e}");
    let a = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let b = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("a.pem"), dir.path().join("b.key"));
    std::fs::write(&cert, a.cert.pem()).unwrap();
    std::fs::write(&key, b.key_pair.serialize_pem()).unwrap();
    let Err(e) = tls::acceptor(&cert, &key) else {
        panic!("a key of another certificate was accepted")
    };
    assert!(e.to_string().contains("do not make a usable pair"), "{e}");
    std::fs::write(&key, "not a key").unwrap();
    assert!(tls::acceptor(&cert, &key).is_err());
}
