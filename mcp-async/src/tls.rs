//! TLS for `https://` URLs, over any `futures-io` stream (so every adapter shares it).
//!
//! With the `tls` feature (on by default in `mcp-smol`) this is rustls on the
//! `ring` provider: TLS 1.3 and 1.2, the server name sent as SNI, certificates always
//! verified, against Mozilla's roots (`webpki-roots`) plus any given to
//! [`HttpConnectOptions::with_root_certificates_pem`], or as a whole
//! [`rustls::ClientConfig`] of your own ([`HttpConnectOptions::with_tls_config`]). The
//! rustls crate is re-exported as [`rustls`] so you need not name its version.
//!
//! Without the feature, `https://` URLs fail with
//! [`HttpConnectError::TlsUnavailable`](crate::http_client::HttpConnectError::TlsUnavailable).
//!
//! [`HttpConnectOptions::with_root_certificates_pem`]: crate::http_client::HttpConnectOptions::with_root_certificates_pem
//! [`HttpConnectOptions::with_tls_config`]: crate::http_client::HttpConnectOptions::with_tls_config

use std::fmt;

#[cfg(feature = "tls")]
pub(crate) use imp::handshake;
#[cfg(feature = "tls")]
pub use imp::{TlsError, TlsStream, rustls};

/// The TLS settings of [`HttpConnectOptions`](crate::http_client::HttpConnectOptions): which
/// certificates are trusted. Set through the options' builder methods; without the `tls`
/// feature there is nothing to set.
#[derive(Clone, Default)]
pub struct TlsOptions {
    #[cfg(feature = "tls")]
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    #[cfg(feature = "tls")]
    config: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("TlsOptions");
        #[cfg(feature = "tls")]
        debug
            .field("extra_roots", &self.extra_roots.len())
            .field("custom_config", &self.config.is_some());
        debug.finish_non_exhaustive()
    }
}

#[cfg(feature = "tls")]
mod imp {
    use std::io;
    use std::sync::Arc;

    use futures_lite::io::{AsyncRead, AsyncWrite};
    use futures_rustls::TlsConnector;
    pub use futures_rustls::client::TlsStream;
    pub use futures_rustls::rustls;
    use rustls::pki_types::pem::{self, PemObject};
    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::{ClientConfig, RootCertStore};

    use super::TlsOptions;

    /// A TLS setting or handshake that failed.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum TlsError {
        /// The PEM text could not be read.
        #[error("cannot read the PEM certificates")]
        Pem(#[source] pem::Error),
        /// The PEM text holds no `CERTIFICATE` section.
        #[error("the PEM text holds no certificate")]
        NoCertificates,
        /// A certificate cannot serve as a trust anchor.
        #[error("unusable root certificate")]
        InvalidCertificate(#[source] rustls::Error),
        /// The client configuration could not be built.
        #[error("cannot set up TLS")]
        Config(#[source] rustls::Error),
        /// The URL's host cannot be a TLS server name.
        #[error("{0:?} is not a valid TLS server name")]
        InvalidServerName(String),
        /// The handshake failed: the certificate was not trusted (`invalid peer certificate:
        /// UnknownIssuer`), not for this host (`NotValidForName`), expired, or the peer does
        /// not speak TLS. The source is the IO error wrapping rustls's error.
        #[error("TLS handshake with {host} failed")]
        Handshake {
            /// The server name verified.
            host: String,
            /// What went wrong.
            #[source]
            source: io::Error,
        },
    }

    impl TlsError {
        /// rustls's own error for a failed handshake (e.g. to tell a certificate problem
        /// apart), when there is one.
        #[must_use]
        pub fn rustls_error(&self) -> Option<&rustls::Error> {
            match self {
                Self::Handshake { source, .. } => source
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
                Self::InvalidCertificate(error) | Self::Config(error) => Some(error),
                _ => None,
            }
        }
    }

    impl TlsOptions {
        /// Adds the certificates of `pem` to the trusted roots; returns how many.
        pub(crate) fn add_roots_pem(&mut self, pem: &[u8]) -> Result<usize, TlsError> {
            let certificates = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(TlsError::Pem)?;
            if certificates.is_empty() {
                return Err(TlsError::NoCertificates);
            }
            // Checked now, so that a bad certificate is the caller's error, not a connection's.
            let mut check = RootCertStore::empty();
            for certificate in &certificates {
                check
                    .add(certificate.clone())
                    .map_err(TlsError::InvalidCertificate)?;
            }
            let added = certificates.len();
            self.extra_roots.extend(certificates);
            Ok(added)
        }

        pub(crate) fn set_config(&mut self, config: Arc<ClientConfig>) {
            self.config = Some(config);
        }

        /// The client configuration these options describe.
        pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, rustls::Error> {
            if let Some(config) = &self.config {
                return Ok(Arc::clone(config));
            }
            let mut roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            for certificate in &self.extra_roots {
                roots.add(certificate.clone())?;
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots)
                .with_no_client_auth();
            // This client speaks HTTP/1.1 only.
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(Arc::new(config))
        }
    }

    /// Runs the TLS handshake for `host` on `stream`.
    pub(crate) async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
        config: Arc<ClientConfig>,
        host: &str,
        stream: S,
    ) -> Result<TlsStream<S>, TlsError> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| TlsError::InvalidServerName(host.to_owned()))?;
        TlsConnector::from(config)
            .connect(name, stream)
            .await
            .map_err(|source| TlsError::Handshake {
                host: host.to_owned(),
                source,
            })
    }
}
