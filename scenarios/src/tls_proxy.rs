//! `https://` and HTTP proxies over real sockets: our Streamable HTTP server behind a TLS
//! terminator (rustls, the test CA of `fixtures/tls/`), and a tiny `CONNECT` proxy written
//! here that records what it was asked. Both listen and dial through the adapter under test
//! (its `bind` and its connector). Every scenario has a deadline, so a hang fails.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_rustls::TlsAcceptor;
use futures_rustls::rustls::pki_types::pem::PemObject;
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use futures_rustls::rustls::{self, ServerConfig};
use mcp_async::api::{
    ClientOptions, ConnectError, HttpConnectError, HttpConnectOptions, HttpServeOptions,
    HttpServerHandle, ProxyConfig, ProxyError, Stack,
};
use mcp_async::demo::demo_server;
use mcp_async::http_client::{Connector, DEFAULT_CONNECT_TIMEOUT, Dialer, MaybeTls};
use mcp_async::http_serve::Listener;
use mcp_async::proto::engine::{EraPolicy, TransportFailure};
use mcp_async::proto::types::Era;
use mcp_async::runtime::Runtime;

use crate::{Harness, S, Scenario, scenario, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(H, https_works_in_both_eras_when_the_test_ca_is_trusted),
        scenario!(
            H,
            an_untrusted_certificate_fails_the_connect_fast_with_the_cause
        ),
        scenario!(H, a_certificate_for_another_name_is_refused),
        scenario!(
            H,
            https_and_http_go_through_a_connect_proxy_with_its_credentials
        ),
        scenario!(H, no_proxy_hosts_bypass_the_proxy),
        scenario!(
            H,
            a_proxy_refusing_the_tunnel_fails_the_connect_with_its_status
        ),
        scenario!(H, an_unreachable_proxy_is_reported_as_such),
    ]
}

const CA: &[u8] = include_bytes!("../fixtures/tls/ca.pem");
const LEAF: &[u8] = include_bytes!("../fixtures/tls/localhost.pem");
const LEAF_KEY: &[u8] = include_bytes!("../fixtures/tls/localhost.key");

/// "Fast" for a connect that fails: before the HTTP client's connect timeout, so a failure
/// that waited for the timeout instead of reporting its cause is caught, whatever the
/// machine's speed.
const FAST: Duration = DEFAULT_CONNECT_TIMEOUT;

fn runtime<H: Harness>() -> <S<H> as Stack>::Runtime {
    S::<H>::runtime().expect("the adapter's runtime")
}

/// Copies both ways until both sides are done, closing each write side after its copy (a
/// TLS side then sends its close_notify).
pub(crate) async fn pump(
    a: impl AsyncRead + AsyncWrite + Unpin,
    b: impl AsyncRead + AsyncWrite + Unpin,
) {
    let (mut a_read, mut a_write) = futures_lite::io::split(a);
    let (mut b_read, mut b_write) = futures_lite::io::split(b);
    futures_lite::future::zip(
        async {
            let _ = futures_lite::io::copy(&mut a_read, &mut b_write).await;
            let _ = b_write.close().await;
        },
        async {
            let _ = futures_lite::io::copy(&mut b_read, &mut a_write).await;
            let _ = a_write.close().await;
        },
    )
    .await;
}

/// A TCP connection to `addr` through the adapter's connector.
pub(crate) async fn dial<H: Harness>(
    addr: SocketAddr,
) -> std::io::Result<<<S<H> as Stack>::Connector as Connector>::Connection> {
    S::<H>::connector()
        .connect_tcp(&addr.ip().to_string(), addr.port())
        .await
}

/// Stops a test server's accept loop when dropped (connections already accepted go on to
/// their end).
pub(crate) struct Stop {
    _closed_on_drop: async_channel::Sender<()>,
}

/// Binds a listener with the adapter and hands each accepted connection to `serve`, in a
/// task of its own, until the returned [`Stop`] is dropped.
pub(crate) async fn accept_loop<H, F, Fut>(serve: F) -> (SocketAddr, Stop)
where
    H: Harness,
    F: Fn(<<S<H> as Stack>::Listener as Listener>::Connection) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (listener, addr) = S::<H>::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let runtime = runtime::<H>();
    let tasks = runtime.clone();
    runtime.spawn(Box::pin(async move {
        loop {
            // The accept future owns what it needs: the listener is not held across awaits.
            let accept = listener.accept();
            let accepted = futures_lite::future::or(async { accept.await.ok() }, async {
                let _ = stopped.recv().await;
                None
            })
            .await;
            let Some((stream, _)) = accepted else { return };
            tasks.spawn(Box::pin(serve(stream)));
        }
    }));
    (
        addr,
        Stop {
            _closed_on_drop: stop,
        },
    )
}

/// Our demo server over plain HTTP.
async fn backend<H: Harness>() -> HttpServerHandle {
    S::<H>::serve_http(
        demo_server(runtime::<H>()),
        "127.0.0.1:0".parse().unwrap(),
        HttpServeOptions::default(),
    )
    .await
    .unwrap()
}

/// A TLS terminator with the `localhost` certificate in front of `backend`.
async fn tls_terminator<H: Harness>(backend: SocketAddr) -> (SocketAddr, Stop) {
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
    accept_loop::<H, _, _>(move |stream| {
        let acceptor = acceptor.clone();
        async move {
            // A client that does not trust us aborts the handshake: nothing to serve.
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let Ok(upstream) = dial::<H>(backend).await else {
                return;
            };
            pump(tls, upstream).await;
        }
    })
    .await
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
async fn connect_proxy<H: Harness>(mode: ProxyMode) -> (SocketAddr, Seen, Stop) {
    let seen = Seen::default();
    let record = Arc::clone(&seen);
    let (addr, stop) = accept_loop::<H, _, _>(move |mut client| {
        let record = Arc::clone(&record);
        async move {
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
                ProxyMode::Tunnel => {
                    let (host, port) = target.rsplit_once(':').unwrap();
                    let host = host.trim_start_matches('[').trim_end_matches(']');
                    S::<H>::connector()
                        .connect_tcp(host, port.parse().unwrap())
                        .await
                }
                ProxyMode::TunnelTo(addr) => dial::<H>(addr).await,
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
        }
    })
    .await;
    (addr, seen, stop)
}

fn env(pairs: &[(&'static str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs = pairs.to_vec();
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    }
}

/// The text of the connection failure a failed connect reports.
fn connection_failure(error: &ConnectError) -> &str {
    match error {
        ConnectError::Transport(TransportFailure::ConnectionLost(text)) => text,
        other => panic!("not a connection failure: {other:?}"),
    }
}

pub async fn https_works_in_both_eras_when_the_test_ca_is_trusted<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let backend = backend::<H>().await;
        let (tls, _stop) = tls_terminator::<H>(backend.local_addr()).await;
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
                crate::exercise_demo::<H>(http, policy, era).await;
            }
        }
        backend.shutdown().await;
    })
    .await;
}

pub async fn an_untrusted_certificate_fails_the_connect_fast_with_the_cause<H: Harness>() {
    within::<H, _>(Duration::from_secs(30), async {
        let backend = backend::<H>().await;
        let (tls, _stop) = tls_terminator::<H>(backend.local_addr()).await;
        let url: http::Uri = format!("https://localhost:{}/mcp", tls.port())
            .parse()
            .unwrap();
        // Mozilla's roots only: the test CA is unknown.
        let http = HttpConnectOptions::new(url.clone()).with_proxy(ProxyConfig::none());
        for policy in [EraPolicy::Auto, EraPolicy::Legacy] {
            let started = Instant::now();
            let error =
                S::<H>::connect_http(http.clone(), ClientOptions::new("t", "1").era(policy))
                    .await
                    .unwrap_err();
            let elapsed = started.elapsed();
            let text = connection_failure(&error);
            assert!(
                text.contains("TLS handshake with localhost failed")
                    && text.contains("invalid peer certificate: UnknownIssuer"),
                "{text}"
            );
            assert!(elapsed < FAST, "took {elapsed:?}");
        }
        // The dialer's own error is typed down to rustls's.
        let dialer = Dialer::new(S::<H>::connector(), &http);
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
        let trusted = Dialer::new(
            S::<H>::connector(),
            &http.with_root_certificates_pem(CA).unwrap(),
        );
        let connection = trusted.connect(&url).await.unwrap();
        assert!(matches!(connection, MaybeTls::Tls(_)), "{connection:?}");
        backend.shutdown().await;
    })
    .await;
}

pub async fn a_certificate_for_another_name_is_refused<H: Harness>() {
    within::<H, _>(Duration::from_secs(30), async {
        let backend = backend::<H>().await;
        let (tls, _tls_stop) = tls_terminator::<H>(backend.local_addr()).await;
        // The proxy takes `wrong.test` to the terminator, whose certificate is for localhost.
        let (proxy, seen, _proxy_stop) = connect_proxy::<H>(ProxyMode::TunnelTo(tls)).await;
        let url: http::Uri = "https://wrong.test/mcp".parse().unwrap();
        let http = HttpConnectOptions::new(url)
            .with_proxy(ProxyConfig::fixed(&format!("http://{proxy}")).unwrap())
            .with_root_certificates_pem(CA)
            .unwrap();
        let error = S::<H>::connect_http(http, ClientOptions::new("t", "1"))
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
    })
    .await;
}

pub async fn https_and_http_go_through_a_connect_proxy_with_its_credentials<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let backend = backend::<H>().await;
        let (tls, _tls_stop) = tls_terminator::<H>(backend.local_addr()).await;
        let (proxy, seen, _proxy_stop) = connect_proxy::<H>(ProxyMode::Tunnel).await;
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
        crate::exercise_demo::<H>(http, EraPolicy::Auto, Era::Modern).await;
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
        crate::exercise_demo::<H>(
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
    })
    .await;
}

pub async fn no_proxy_hosts_bypass_the_proxy<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let backend = backend::<H>().await;
        let (tls, _tls_stop) = tls_terminator::<H>(backend.local_addr()).await;
        let (proxy, seen, _proxy_stop) = connect_proxy::<H>(ProxyMode::Tunnel).await;
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
        crate::exercise_demo::<H>(http, EraPolicy::Auto, Era::Modern).await;
        let plain: http::Uri = format!("http://127.0.0.1:{}/mcp", backend.local_addr().port())
            .parse()
            .unwrap();
        crate::exercise_demo::<H>(
            HttpConnectOptions::new(plain).with_proxy(config),
            EraPolicy::Auto,
            Era::Modern,
        )
        .await;
        assert!(seen.lock().unwrap().is_empty(), "the proxy saw nothing");
        backend.shutdown().await;
    })
    .await;
}

pub async fn a_proxy_refusing_the_tunnel_fails_the_connect_with_its_status<H: Harness>() {
    within::<H, _>(Duration::from_secs(30), async {
        let (proxy, seen, _stop) = connect_proxy::<H>(ProxyMode::Refuse).await;
        let url: http::Uri = "https://localhost:1/mcp".parse().unwrap();
        let http = HttpConnectOptions::new(url.clone())
            .with_proxy(ProxyConfig::fixed(&format!("http://bob:pw@{proxy}")).unwrap());
        let started = Instant::now();
        let error = S::<H>::connect_http(http.clone(), ClientOptions::new("t", "1"))
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert!(elapsed < FAST, "took {elapsed:?}");
        let text = connection_failure(&error);
        assert!(
            text.contains("refused the tunnel to localhost:1 with HTTP status 407"),
            "{text}"
        );
        assert!(!text.contains("pw"), "{text}");
        assert_eq!(seen.lock().unwrap()[0].0, "CONNECT localhost:1 HTTP/1.1");
        // The dialer's error carries the status and the challenge.
        match Dialer::new(S::<H>::connector(), &http).connect(&url).await {
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
    })
    .await;
}

pub async fn an_unreachable_proxy_is_reported_as_such<H: Harness>() {
    within::<H, _>(Duration::from_secs(30), async {
        // A port nobody listens on: bound, noted, released.
        let port = {
            let (listener, addr) = S::<H>::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
            drop(listener);
            addr.port()
        };
        let url: http::Uri = "http://localhost:1/mcp".parse().unwrap();
        let http = HttpConnectOptions::new(url)
            .with_proxy(ProxyConfig::fixed(&format!("http://127.0.0.1:{port}")).unwrap());
        let error = S::<H>::connect_http(http, ClientOptions::new("t", "1"))
            .await
            .unwrap_err();
        let text = connection_failure(&error);
        assert!(
            text.contains(&format!("cannot reach the proxy 127.0.0.1:{port}"))
                && text.contains("refused"),
            "{text}"
        );
    })
    .await;
}
