//! Opening the HTTP client's connections: the adapter's [`Connector`] dials TCP, and this
//! layer adds what is the same on every runtime — the `CONNECT` tunnel through a proxy and
//! TLS for `https://`.

use std::error::Error;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};
use http::Uri;

use crate::http_client::{Connector, HttpConnectOptions};
use crate::proxy::{self, ProxyConfig, ProxyError};
#[cfg(feature = "tls")]
use crate::tls::{TlsError, TlsOptions, TlsStream, rustls};

/// Why a connection for the HTTP client could not be opened. The display is this level's
/// message; [`Error::source`] goes down to the cause (the OS error, rustls's error…).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpConnectError {
    /// The URL cannot be dialled.
    #[error("cannot connect to this URL: {0}")]
    InvalidUrl(&'static str),
    /// An `https://` URL, but this build has no TLS (the `tls` feature of `mcp-async`, on by
    /// default in `mcp-smol`).
    #[error("https URLs need TLS, and this build of mcp-async lacks its `tls` feature")]
    TlsUnavailable,
    /// The TCP connection to the server failed.
    #[error("TCP connection to {target} failed")]
    Tcp {
        /// The `host:port` dialled.
        target: String,
        /// The connector's error.
        #[source]
        source: io::Error,
    },
    /// The proxy could not be used or refused the tunnel (e.g. HTTP status 407).
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// The TLS handshake failed (e.g. `invalid peer certificate: UnknownIssuer`).
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl HttpConnectError {
    /// The message with its causes, `: `-separated (what the client reports as the
    /// connection's failure).
    #[must_use]
    pub fn with_causes(&self) -> String {
        with_causes(self)
    }
}

/// `error`'s message followed by its causes', `: `-separated.
pub(crate) fn with_causes(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let message = error.to_string();
        // `#[error(transparent)]` and `io::Error` may show their cause already.
        if !text.ends_with(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        cause = error.source();
    }
    text
}

/// A connection of the HTTP client: plain, or TLS over the adapter's connection.
pub enum MaybeTls<S> {
    /// Plain TCP (an `http://` URL), possibly through a proxy's tunnel.
    Plain(S),
    /// TLS (an `https://` URL), possibly through a proxy's tunnel.
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream<S>>),
}

impl<S> fmt::Debug for MaybeTls<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(_) => f.write_str("MaybeTls::Plain"),
            #[cfg(feature = "tls")]
            Self::Tls(_) => f.write_str("MaybeTls::Tls"),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_flush(cx),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_close(cx),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_close(cx),
        }
    }
}

/// Opens connections the way the HTTP client does: TCP through the adapter's [`Connector`],
/// through the proxy [`HttpConnectOptions::proxy`] chooses for the URL (a `CONNECT` tunnel),
/// then TLS for `https://` (the URL's host as SNI and as the name the certificate must
/// carry).
pub struct Dialer<C> {
    connector: C,
    proxy: ProxyConfig,
    #[cfg(feature = "tls")]
    tls: TlsOptions,
    /// Built on the first `https://` connection, then shared by all.
    #[cfg(feature = "tls")]
    tls_config: std::sync::OnceLock<Result<std::sync::Arc<rustls::ClientConfig>, rustls::Error>>,
}

impl<C> fmt::Debug for Dialer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Dialer");
        debug.field("proxy", &self.proxy);
        #[cfg(feature = "tls")]
        debug.field("tls", &self.tls);
        debug.finish_non_exhaustive()
    }
}

/// Where a URL's connection goes.
struct Target {
    https: bool,
    host: String,
    port: u16,
}

fn target_of(url: &Uri) -> Result<Target, HttpConnectError> {
    let https = match url.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => {
            return Err(HttpConnectError::InvalidUrl(
                "not an http:// or https:// URL",
            ));
        }
    };
    let host = url
        .host()
        .ok_or(HttpConnectError::InvalidUrl("the URL has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    Ok(Target { https, host, port })
}

impl<C: Connector> Dialer<C> {
    /// A dialer with the proxy and TLS settings of `options`.
    #[must_use]
    pub fn new(connector: C, options: &HttpConnectOptions) -> Self {
        Self {
            connector,
            proxy: options.proxy.clone(),
            #[cfg(feature = "tls")]
            tls: options.tls.clone(),
            #[cfg(feature = "tls")]
            tls_config: std::sync::OnceLock::new(),
        }
    }

    /// A connection to the origin of `url`, ready for HTTP/1.1 requests in origin form. No
    /// timeout of its own: the caller bounds it.
    ///
    /// # Errors
    /// [`HttpConnectError`]: the URL, the TCP connection, the proxy (e.g. its 407) or the
    /// TLS handshake.
    pub async fn connect(&self, url: &Uri) -> Result<MaybeTls<C::Connection>, HttpConnectError> {
        let target = target_of(url)?;
        if target.https && cfg!(not(feature = "tls")) {
            return Err(HttpConnectError::TlsUnavailable);
        }
        let stream = match self.proxy.route(target.https, &target.host, target.port)? {
            Some(via) => {
                tracing::debug!(proxy = %via, target = %proxy::host_port(&target.host, target.port), "connecting through a proxy");
                let mut stream = self
                    .connector
                    .connect_tcp(via.host(), via.port())
                    .await
                    .map_err(|source| ProxyError::Unreachable {
                        proxy: via.to_string(),
                        source,
                    })?;
                proxy::tunnel(&mut stream, via, &target.host, target.port).await?;
                stream
            }
            None => self
                .connector
                .connect_tcp(&target.host, target.port)
                .await
                .map_err(|source| HttpConnectError::Tcp {
                    target: proxy::host_port(&target.host, target.port),
                    source,
                })?,
        };
        if !target.https {
            return Ok(MaybeTls::Plain(stream));
        }
        #[cfg(feature = "tls")]
        {
            let config = self
                .tls_config
                .get_or_init(|| self.tls.client_config())
                .clone()
                .map_err(TlsError::Config)?;
            let stream = crate::tls::handshake(config, &target.host, stream).await?;
            Ok(MaybeTls::Tls(Box::new(stream)))
        }
        #[cfg(not(feature = "tls"))]
        Err(HttpConnectError::TlsUnavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::BoxFuture;
    use futures_lite::future::block_on;

    /// Refuses every connection, counting the attempts.
    struct Refusing(std::sync::atomic::AtomicUsize);

    impl Connector for Refusing {
        type Connection = futures_lite::io::Cursor<Vec<u8>>;

        fn connect_tcp(
            &self,
            _host: &str,
            _port: u16,
        ) -> BoxFuture<'static, io::Result<Self::Connection>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async { Err(io::Error::from(io::ErrorKind::ConnectionRefused)) })
        }
    }

    fn dial(url: &str) -> (Result<(), HttpConnectError>, usize) {
        let url: Uri = url.parse().unwrap();
        let options = HttpConnectOptions::new(url.clone()).with_proxy(ProxyConfig::none());
        let dialer = Dialer::new(Refusing(0.into()), &options);
        let result = block_on(dialer.connect(&url)).map(|_| ());
        (result, dialer.connector.0.into_inner())
    }

    #[test]
    fn urls_that_cannot_be_dialled_are_refused_before_connecting() {
        for url in ["ftp://example.com/", "/relative"] {
            let (result, attempts) = dial(url);
            assert!(
                matches!(result, Err(HttpConnectError::InvalidUrl(_))),
                "{url}: {result:?}"
            );
            assert_eq!(attempts, 0);
        }
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn https_without_the_tls_feature_is_a_typed_error() {
        let (result, attempts) = dial("https://example.com/mcp");
        let error = result.unwrap_err();
        assert!(
            matches!(error, HttpConnectError::TlsUnavailable),
            "{error:?}"
        );
        assert!(error.to_string().contains("`tls` feature"));
        assert_eq!(attempts, 0);
    }

    #[test]
    fn failures_are_reported_with_their_causes() {
        let (result, attempts) = dial("http://[::1]:8080/mcp");
        let error = result.unwrap_err();
        assert!(matches!(&error, HttpConnectError::Tcp { target, .. } if target == "[::1]:8080"));
        assert_eq!(attempts, 1);
        assert_eq!(
            error.with_causes(),
            format!(
                "TCP connection to [::1]:8080 failed: {}",
                io::Error::from(io::ErrorKind::ConnectionRefused)
            )
        );
        let url: Uri = "http://example.com/".parse().unwrap();
        let options = HttpConnectOptions::new(url.clone())
            .with_proxy(ProxyConfig::fixed("http://u:secret@proxy:3128").unwrap());
        let dialer = Dialer::new(Refusing(0.into()), &options);
        let error = block_on(dialer.connect(&url)).map(|_| ()).unwrap_err();
        let text = error.with_causes();
        assert!(
            text.starts_with("cannot reach the proxy proxy:3128: ") && !text.contains("secret"),
            "{text}"
        );
        assert!(!format!("{dialer:?}").contains("secret"));
    }

    #[cfg(feature = "tls")]
    #[test]
    fn root_certificates_are_checked_when_given() {
        let options = HttpConnectOptions::new(Uri::from_static("https://x/"));
        let error = options
            .clone()
            .with_root_certificates_pem(b"not pem")
            .unwrap_err();
        assert!(matches!(error, TlsError::NoCertificates), "{error:?}");
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let error = options.with_root_certificates_pem(garbage).unwrap_err();
        assert!(
            matches!(error, TlsError::InvalidCertificate(_)),
            "{error:?}"
        );
    }
}
