//! `https://` and HTTP proxies over real sockets: our Streamable HTTP server behind a TLS
//! terminator (rustls, the test CA of `fixtures/tls/`), and a tiny `CONNECT` proxy written
//! here that records what it was asked. Every test has a deadline, so a hang fails.
#![cfg(feature = "tls")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_rustls::TlsAcceptor;
use futures_rustls::rustls::pki_types::pem::PemObject;
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use futures_rustls::rustls::{self, ServerConfig};
use mcp_async::demo::demo_server;
use mcp_async::http_client::{Dialer, MaybeTls};
use mcp_smol::proto::engine::{EraPolicy, TransportFailure};
use mcp_smol::proto::types::{ContentBlock, Era};
use mcp_smol::{
    ClientOptions, ConnectError, HttpConnectError, HttpConnectOptions, HttpServeOptions,
    HttpServerHandle, ProxyConfig, ProxyError, SmolConnector, SmolRuntime, connect_http,
    serve_http,
};
use serde_json::json;
use smol::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};

const CA: &[u8] = include_bytes!("../../scenarios/fixtures/tls/ca.pem");
const LEAF: &[u8] = include_bytes!("../../scenarios/fixtures/tls/localhost.pem");
const LEAF_KEY: &[u8] = include_bytes!("../../scenarios/fixtures/tls/localhost.key");

fn within<T>(limit: Duration, test: impl Future<Output = T>) -> T {
    smol::block_on(smol::future::or(async { Some(test.await) }, async {
        smol::Timer::after(limit).await;
        None
    }))
    .unwrap_or_else(|| panic!("the test did not finish within {limit:?}"))
}

fn text(content: &[ContentBlock]) -> String {
    match content.first() {
        Some(ContentBlock::Text(text)) => text.text.clone(),
        other => panic!("{other:?}"),
    }
}

/// Copies both ways until both sides are done, closing each write side after its copy (a
/// TLS side then sends its close_notify).
async fn pump(a: impl AsyncRead + AsyncWrite + Unpin, b: impl AsyncRead + AsyncWrite + Unpin) {
    let (mut a_read, mut a_write) = smol::io::split(a);
    let (mut b_read, mut b_write) = smol::io::split(b);
    smol::future::zip(
        async {
            let _ = smol::io::copy(&mut a_read, &mut b_write).await;
            let _ = b_write.close().await;
        },
        async {
            let _ = smol::io::copy(&mut b_read, &mut a_write).await;
            let _ = a_write.close().await;
        },
    )
    .await;
}

/// Our demo server over plain HTTP.
async fn backend() -> HttpServerHandle {
    serve_http(
        demo_server(SmolRuntime),
        "127.0.0.1:0".parse().unwrap(),
        HttpServeOptions::default(),
    )
    .await
    .unwrap()
}

/// A TLS terminator with the `localhost` certificate in front of `backend`.
async fn tls_terminator(backend: SocketAddr) -> SocketAddr {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(LEAF)
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(LEAF_KEY).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    smol::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            smol::spawn(async move {
                // A client that does not trust us aborts the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(upstream) = TcpStream::connect(backend).await else {
                    return;
                };
                pump(tls, upstream).await;
            })
            .detach();
        }
    })
    .detach();
    addr
}

/// What the test proxy was asked: the request line and the `Proxy-Authorization` value.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

#[derive(Clone, Copy)]
enum ProxyMode {
    /// Tunnels to the requested target.
    Tunnel,
    /// Tunnels to this address whatever the target (a host name that is not the server's).
    TunnelTo(SocketAddr),
    /// Answers 407.
    Refuse,
}

/// A `CONNECT` proxy: records each request, then tunnels or refuses as told.
async fn connect_proxy(mode: ProxyMode) -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();
    let record = Arc::clone(&seen);
    smol::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            smol::spawn(async move {
                // Byte by byte up to the blank line, so no tunnelled byte is read here.
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    let mut byte = [0u8; 1];
                    if client.read_exact(&mut byte).await.is_err() || head.len() > 8192 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8(head).unwrap();
                let mut lines = head.split("\r\n");
                let request_line = lines.next().unwrap().to_owned();
                let authorization = lines
                    .filter_map(|line| line.split_once(": "))
                    .find(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
                    .map(|(_, value)| value.to_owned());
                record
                    .lock()
                    .unwrap()
                    .push((request_line.clone(), authorization));
                let target = request_line.split(' ').nth(1).unwrap().to_owned();
                let upstream = match mode {
                    ProxyMode::Refuse => {
                        let _ = client
                            .write_all(
                                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                                  Proxy-Authenticate: Basic realm=\"test\"\r\n\
                                  Content-Length: 0\r\nConnection: close\r\n\r\n",
                            )
                            .await;
                        return;
                    }
                    ProxyMode::Tunnel => TcpStream::connect(target.as_str()).await,
                    ProxyMode::TunnelTo(addr) => TcpStream::connect(addr).await,
                };
                let Ok(upstream) = upstream else {
                    let _ = client
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                };
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                pump(client, upstream).await;
            })
            .detach();
        }
    })
    .detach();
    (addr, seen)
}

fn env(pairs: &[(&'static str, String)]) -> impl Fn(&str) -> Option<String> {
    let pairs = pairs.to_vec();
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    }
}

/// Lists the tools, echoes, and runs the streamed `slow` tool, then shuts down.
async fn exercise(http: HttpConnectOptions, era: EraPolicy, expected: Era) {
    let client = connect_http(http, ClientOptions::new("t", "1").era(era))
        .await
        .unwrap();
    assert_eq!(client.negotiated().era, expected);
    let tools = client.list_tools().await.unwrap();
    assert_eq!(tools.len(), 2);
    for n in 0..5 {
        let message = format!("over TLS {n}");
        let echoed = client
            .call_tool("echo", json!({"message": message}))
            .await
            .unwrap();
        assert_eq!(text(&echoed.content), message);
    }
    // Progress first, so this answer is an SSE stream over the same TLS connection kind.
    let slow = client
        .call_tool("slow", json!({"millis": 20}))
        .await
        .unwrap();
    assert_eq!(text(&slow.content), "waited 20 ms");
    let report = client.shutdown().await;
    assert!(report.close.unwrap().abandoned.is_empty());
}

/// The text of the connection failure a failed connect reports.
fn connection_failure(error: &ConnectError) -> &str {
    match error {
        ConnectError::Transport(TransportFailure::ConnectionLost(text)) => text,
        other => panic!("not a connection failure: {other:?}"),
    }
}

#[test]
fn https_works_in_both_eras_when_the_test_ca_is_trusted() {
    within(Duration::from_secs(60), async {
        let backend = backend().await;
        let tls = tls_terminator(backend.local_addr()).await;
        for host in ["localhost", "127.0.0.1"] {
            let url: http::Uri = format!("https://{host}:{}/mcp", tls.port())
                .parse()
                .unwrap();
            for (policy, era) in [
                (EraPolicy::Auto, Era::Modern),
                (EraPolicy::Legacy, Era::Legacy),
            ] {
                let http = HttpConnectOptions::new(url.clone())
                    .with_proxy(ProxyConfig::none())
                    .with_root_certificates_pem(CA)
                    .unwrap();
                exercise(http, policy, era).await;
            }
        }
        backend.shutdown().await;
    });
}

#[test]
fn an_untrusted_certificate_fails_the_connect_fast_with_the_cause() {
    within(Duration::from_secs(30), async {
        let backend = backend().await;
        let tls = tls_terminator(backend.local_addr()).await;
        let url: http::Uri = format!("https://localhost:{}/mcp", tls.port())
            .parse()
            .unwrap();
        // Mozilla's roots only: the test CA is unknown.
        let http = HttpConnectOptions::new(url.clone()).with_proxy(ProxyConfig::none());
        for policy in [EraPolicy::Auto, EraPolicy::Legacy] {
            let started = Instant::now();
            let error = connect_http(http.clone(), ClientOptions::new("t", "1").era(policy))
                .await
                .unwrap_err();
            let elapsed = started.elapsed();
            let text = connection_failure(&error);
            assert!(
                text.contains("TLS handshake with localhost failed")
                    && text.contains("invalid peer certificate: UnknownIssuer"),
                "{text}"
            );
            assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
        }
        // The dialer's own error is typed down to rustls's.
        let dialer = Dialer::new(SmolConnector, &http);
        match dialer.connect(&url).await {
            Err(HttpConnectError::Tls(error)) => assert!(
                matches!(
                    error.rustls_error(),
                    Some(rustls::Error::InvalidCertificate(
                        rustls::CertificateError::UnknownIssuer
                    ))
                ),
                "{error:?}"
            ),
            other => panic!("{other:?}"),
        }
        // Trusting the CA, the same dialer setup gives a TLS connection.
        let trusted = Dialer::new(SmolConnector, &http.with_root_certificates_pem(CA).unwrap());
        assert!(matches!(
            trusted.connect(&url).await.unwrap(),
            MaybeTls::Tls(_)
        ));
        backend.shutdown().await;
    });
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    within(Duration::from_secs(30), async {
        let backend = backend().await;
        let tls = tls_terminator(backend.local_addr()).await;
        // The proxy takes `wrong.test` to the terminator, whose certificate is for localhost.
        let (proxy, seen) = connect_proxy(ProxyMode::TunnelTo(tls)).await;
        let url: http::Uri = "https://wrong.test/mcp".parse().unwrap();
        let http = HttpConnectOptions::new(url)
            .with_proxy(ProxyConfig::fixed(&format!("http://{proxy}")).unwrap())
            .with_root_certificates_pem(CA)
            .unwrap();
        let error = connect_http(http, ClientOptions::new("t", "1"))
            .await
            .unwrap_err();
        let text = connection_failure(&error);
        assert!(
            text.contains("TLS handshake with wrong.test failed")
                && text.contains("certificate not valid for name \"wrong.test\""),
            "{text}"
        );
        assert_eq!(seen.lock().unwrap()[0].0, "CONNECT wrong.test:443 HTTP/1.1");
        backend.shutdown().await;
    });
}

#[test]
fn https_and_http_go_through_a_connect_proxy_with_its_credentials() {
    within(Duration::from_secs(60), async {
        let backend = backend().await;
        let tls = tls_terminator(backend.local_addr()).await;
        let (proxy, seen) = connect_proxy(ProxyMode::Tunnel).await;
        // From the environment's variables (read through a closure, not the process's).
        let config = ProxyConfig::from_env_with(env(&[
            (
                "HTTPS_PROXY",
                format!("http://alice:s%3Acret@127.0.0.1:{}", proxy.port()),
            ),
            ("http_proxy", format!("127.0.0.1:{}", proxy.port())),
        ]));
        assert!(!format!("{config:?}").contains("cret"));
        let https: http::Uri = format!("https://localhost:{}/mcp", tls.port())
            .parse()
            .unwrap();
        let http = HttpConnectOptions::new(https)
            .with_proxy(config.clone())
            .with_root_certificates_pem(CA)
            .unwrap();
        exercise(http, EraPolicy::Auto, Era::Modern).await;
        {
            let seen = seen.lock().unwrap();
            assert!(!seen.is_empty());
            for (line, authorization) in seen.iter() {
                assert_eq!(line, &format!("CONNECT localhost:{} HTTP/1.1", tls.port()));
                // base64("alice:s:cret"): the password percent-decoded.
                assert_eq!(authorization.as_deref(), Some("Basic YWxpY2U6czpjcmV0"));
            }
        }
        seen.lock().unwrap().clear();

        // Plain http through the same proxy (its own variable, without credentials).
        let plain: http::Uri = format!("http://127.0.0.1:{}/mcp", backend.local_addr().port())
            .parse()
            .unwrap();
        exercise(
            HttpConnectOptions::new(plain).with_proxy(config),
            EraPolicy::Legacy,
            Era::Legacy,
        )
        .await;
        let seen = seen.lock().unwrap().clone();
        assert!(!seen.is_empty());
        for (line, authorization) in &seen {
            assert_eq!(
                line,
                &format!("CONNECT 127.0.0.1:{} HTTP/1.1", backend.local_addr().port())
            );
            assert_eq!(authorization, &None);
        }
        backend.shutdown().await;
    });
}

#[test]
fn no_proxy_hosts_bypass_the_proxy() {
    within(Duration::from_secs(60), async {
        let backend = backend().await;
        let tls = tls_terminator(backend.local_addr()).await;
        let (proxy, seen) = connect_proxy(ProxyMode::Tunnel).await;
        let config = ProxyConfig::from_env_with(env(&[
            ("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port())),
            ("HTTP_PROXY", format!("http://127.0.0.1:{}", proxy.port())),
            ("NO_PROXY", "example.com, LOCALHOST ,127.0.0.0/8".to_owned()),
        ]));
        let https: http::Uri = format!("https://localhost:{}/mcp", tls.port())
            .parse()
            .unwrap();
        let http = HttpConnectOptions::new(https)
            .with_proxy(config.clone())
            .with_root_certificates_pem(CA)
            .unwrap();
        exercise(http, EraPolicy::Auto, Era::Modern).await;
        let plain: http::Uri = format!("http://127.0.0.1:{}/mcp", backend.local_addr().port())
            .parse()
            .unwrap();
        exercise(
            HttpConnectOptions::new(plain).with_proxy(config),
            EraPolicy::Auto,
            Era::Modern,
        )
        .await;
        assert!(seen.lock().unwrap().is_empty(), "the proxy saw nothing");
        backend.shutdown().await;
    });
}

#[test]
fn a_proxy_refusing_the_tunnel_fails_the_connect_with_its_status() {
    within(Duration::from_secs(30), async {
        let (proxy, seen) = connect_proxy(ProxyMode::Refuse).await;
        let url: http::Uri = "https://localhost:1/mcp".parse().unwrap();
        let http = HttpConnectOptions::new(url.clone())
            .with_proxy(ProxyConfig::fixed(&format!("http://bob:pw@{proxy}")).unwrap());
        let started = Instant::now();
        let error = connect_http(http.clone(), ClientOptions::new("t", "1"))
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        let text = connection_failure(&error);
        assert!(
            text.contains("refused the tunnel to localhost:1 with HTTP status 407"),
            "{text}"
        );
        assert!(!text.contains("pw"), "{text}");
        assert_eq!(seen.lock().unwrap()[0].0, "CONNECT localhost:1 HTTP/1.1");
        // The dialer's error carries the status and the challenge.
        match Dialer::new(SmolConnector, &http).connect(&url).await {
            Err(HttpConnectError::Proxy(ProxyError::Refused {
                status,
                proxy_authenticate,
                ..
            })) => {
                assert_eq!(status, 407);
                assert_eq!(proxy_authenticate.as_deref(), Some("Basic realm=\"test\""));
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn an_unreachable_proxy_is_reported_as_such() {
    within(Duration::from_secs(30), async {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url: http::Uri = "http://localhost:1/mcp".parse().unwrap();
        let http = HttpConnectOptions::new(url)
            .with_proxy(ProxyConfig::fixed(&format!("http://127.0.0.1:{port}")).unwrap());
        let error = connect_http(http, ClientOptions::new("t", "1"))
            .await
            .unwrap_err();
        let text = connection_failure(&error);
        assert!(
            text.contains(&format!("cannot reach the proxy 127.0.0.1:{port}"))
                && text.contains("refused"),
            "{text}"
        );
    });
}
