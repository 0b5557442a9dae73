//! HTTP proxies for the HTTP client: which proxy a URL goes through ([`ProxyConfig`]: the
//! conventional environment variables, or an explicit choice) and the `CONNECT` tunnel
//! through it.
//!
//! Every request through a proxy, `http://` as well as `https://`, goes through a `CONNECT`
//! tunnel to the origin: the client then speaks to the origin exactly as it would directly
//! (origin-form requests, the same keep-alive pool, TLS end to end for `https://`), and the
//! proxy only sees the target's host and port. Proxies that refuse `CONNECT` to ports other
//! than 443 must exempt plain-HTTP origins with `NO_PROXY`.
//!
//! Secrets stay secret: a proxy's credentials appear in no `Debug` output, error or log, and
//! the `Proxy-Authorization` header exists only in the bytes written to the proxy.

use std::fmt;
use std::io;
use std::net::IpAddr;

use crate::percent::percent_decode;
use base64::Engine as _;
use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use http::Uri;
use mcp_proto::h1::{self, Limits};

/// The longest `CONNECT` response head read from a proxy.
const CONNECT_HEAD_LIMIT: usize = 8 * 1024;
/// The default port of a proxy URL without one (that of `http://`, as Go does; curl uses 1080).
const DEFAULT_PROXY_PORT: u16 = 80;
/// The longest `Proxy-Authenticate` challenge kept in an error.
const CHALLENGE_LIMIT: usize = 512;

/// Why a proxy could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// A proxy URL (given, or from an environment variable) cannot be used. The text never
    /// repeats the URL, which may hold a password.
    #[error("invalid proxy URL{}: {reason}", .variable.map(|v| format!(" in {v}")).unwrap_or_default())]
    InvalidUrl {
        /// The environment variable it came from, if any.
        variable: Option<&'static str>,
        /// What is wrong with it.
        reason: String,
    },
    /// The TCP connection to the proxy failed.
    #[error("cannot reach the proxy {proxy}")]
    Unreachable {
        /// The proxy's `host:port`.
        proxy: String,
        /// The connector's error.
        #[source]
        source: io::Error,
    },
    /// The proxy answered the `CONNECT` with a status other than 2xx (e.g. 407 when it wants
    /// credentials, 403 when it forbids the target, 502 when the target is unreachable).
    #[error("the proxy {proxy} refused the tunnel to {target} with HTTP status {status}")]
    Refused {
        /// The proxy's `host:port`.
        proxy: String,
        /// The tunnel's target `host:port`.
        target: String,
        /// The proxy's status code.
        status: u16,
        /// The proxy's `Proxy-Authenticate` challenge (with a 407), at most 512 bytes.
        proxy_authenticate: Option<String>,
    },
    /// The proxy's answer was not a usable HTTP response.
    #[error("the proxy {proxy} answered the CONNECT badly: {reason}")]
    BadResponse {
        /// The proxy's `host:port`.
        proxy: String,
        /// What was wrong.
        reason: String,
    },
    /// Writing the `CONNECT` to the proxy or reading its answer failed.
    #[error("the connection to the proxy {proxy} failed during the CONNECT")]
    Io {
        /// The proxy's `host:port`.
        proxy: String,
        /// The IO error.
        #[source]
        source: io::Error,
    },
}

/// User name and password for a proxy (HTTP Basic), percent-decoded. Never shown.
#[derive(Clone, PartialEq, Eq)]
struct Credentials {
    user: Vec<u8>,
    password: Vec<u8>,
}

impl Credentials {
    /// The `Proxy-Authorization` value.
    fn basic(&self) -> String {
        let mut pair = Vec::with_capacity(self.user.len() + 1 + self.password.len());
        pair.extend_from_slice(&self.user);
        pair.push(b':');
        pair.extend_from_slice(&self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An HTTP proxy: `http://[user:password@]host[:port]` (the port defaults to 80). Its
/// `Debug` and `Display` show the host and port only.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    credentials: Option<Credentials>,
}

impl Proxy {
    /// Parses a proxy URL: `http://[user:password@]host[:port][/]`, or the same without the
    /// scheme (as proxy environment variables often are). User and password are
    /// percent-decoded and sent as `Proxy-Authorization: Basic …` on the `CONNECT`. Other
    /// schemes (`https://`, `socks5://`…) are refused.
    ///
    /// # Errors
    /// [`ProxyError::InvalidUrl`], whose text does not repeat the URL.
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        parse_proxy(url).map_err(|reason| ProxyError::InvalidUrl {
            variable: None,
            reason,
        })
    }

    /// The proxy's host (an IPv6 address without brackets).
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL had credentials (sent as `Proxy-Authorization: Basic …`).
    #[must_use]
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&host_port(&self.host, self.port))
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// `host:port`, with brackets around an IPv6 address.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Where the requests of one scheme go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Direct,
    Proxy(Proxy),
    /// A proxy is configured but unusable: connections fail rather than silently bypass it.
    Invalid {
        variable: Option<&'static str>,
        reason: String,
    },
}

impl Route {
    fn from_setting(variable: &'static str, value: &str) -> Self {
        match parse_proxy(value) {
            Ok(proxy) => Self::Proxy(proxy),
            Err(reason) => {
                tracing::warn!(%variable, %reason, "unusable proxy setting: connections that need it will fail");
                Self::Invalid {
                    variable: Some(variable),
                    reason,
                }
            }
        }
    }
}

/// Which proxy, if any, the HTTP client uses for a URL.
///
/// [`ProxyConfig::from_env`] (the default of
/// [`HttpConnectOptions`](crate::http_client::HttpConnectOptions)) follows the conventional
/// environment variables:
///
/// - `https_proxy` / `HTTPS_PROXY` for `https://` URLs, `http_proxy` / `HTTP_PROXY` for
///   `http://` URLs, `all_proxy` / `ALL_PROXY` for either when its own is unset (the lower-case
///   name wins, as with curl; an empty value counts as unset). `HTTP_PROXY` is ignored when
///   `REQUEST_METHOD` is set: under CGI, a request's `Proxy:` header arrives as `HTTP_PROXY`
///   ("httpoxy").
/// - `no_proxy` / `NO_PROXY`: hosts reached directly, see [`NoProxy`]. Loopback addresses and
///   `localhost` are **not** exempt unless listed (as with curl; Go exempts them): a proxy
///   setting then applies to every host, which is what a test of a proxy wants.
///
/// A proxy value that cannot be used (an `https://` or `socks5://` proxy, a bad port) makes
/// the connections that would use it fail with [`ProxyError::InvalidUrl`] instead of going
/// around the proxy.
///
/// ```
/// use mcp_async::proxy::ProxyConfig;
///
/// let env = |name: &str| match name {
///     "HTTPS_PROXY" => Some("http://alice:s%40cret@proxy.internal:3128".to_owned()),
///     "NO_PROXY" => Some("localhost,127.0.0.1,.corp.example".to_owned()),
///     _ => None,
/// };
/// let config = ProxyConfig::from_env_with(env);
/// let proxy = config.proxy_for(&"https://api.example.com/mcp".parse()?)?.expect("proxied");
/// assert_eq!(proxy.to_string(), "proxy.internal:3128");
/// assert!(proxy.has_credentials());
/// assert!(!format!("{config:?}").contains("s@cret"));
/// // Exempt hosts and schemes without a proxy go direct.
/// assert!(config.proxy_for(&"https://db.corp.example/mcp".parse()?)?.is_none());
/// assert!(config.proxy_for(&"http://api.example.com/mcp".parse()?)?.is_none());
///
/// let fixed = ProxyConfig::fixed("http://proxy.internal:3128")?.with_no_proxy("localhost");
/// assert!(fixed.proxy_for(&"http://localhost:8080/mcp".parse()?)?.is_none());
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    http: Route,
    https: Route,
    no_proxy: NoProxy,
}

impl Default for ProxyConfig {
    /// [`ProxyConfig::from_env`].
    fn default() -> Self {
        Self::from_env()
    }
}

impl ProxyConfig {
    /// No proxy: every connection goes direct, whatever the environment says.
    #[must_use]
    pub fn none() -> Self {
        Self {
            http: Route::Direct,
            https: Route::Direct,
            no_proxy: NoProxy::default(),
        }
    }

    /// `proxy_url` for every URL (`http://` and `https://`), with no exemptions until
    /// [`ProxyConfig::with_no_proxy`].
    ///
    /// # Errors
    /// [`ProxyError::InvalidUrl`] as for [`Proxy::parse`].
    pub fn fixed(proxy_url: &str) -> Result<Self, ProxyError> {
        let proxy = Proxy::parse(proxy_url)?;
        Ok(Self {
            http: Route::Proxy(proxy.clone()),
            https: Route::Proxy(proxy),
            no_proxy: NoProxy::default(),
        })
    }

    /// The proxies of this process's environment (see the type's documentation).
    #[must_use]
    pub fn from_env() -> Self {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// The proxies an environment would give, reading variables with `lookup` (tests pass a
    /// closure instead of changing the process's environment).
    #[must_use]
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|&name| {
                lookup(name)
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (name, value))
            })
        };
        let cgi = lookup("REQUEST_METHOD").is_some();
        let http_names: &[&'static str] = if cgi {
            &["http_proxy"]
        } else {
            &["http_proxy", "HTTP_PROXY"]
        };
        let all = first(&["all_proxy", "ALL_PROXY"]);
        let route = |setting: Option<(&'static str, String)>| {
            setting.map_or(Route::Direct, |(variable, value)| {
                Route::from_setting(variable, &value)
            })
        };
        let config = Self {
            http: route(first(http_names).or_else(|| all.clone())),
            https: route(first(&["https_proxy", "HTTPS_PROXY"]).or(all)),
            no_proxy: first(&["no_proxy", "NO_PROXY"])
                .map(|(_, list)| NoProxy::parse(&list))
                .unwrap_or_default(),
        };
        tracing::debug!(?config, "proxy settings from the environment");
        config
    }

    /// Replaces the hosts reached directly with `list` (the `NO_PROXY` syntax, see
    /// [`NoProxy`]).
    #[must_use]
    pub fn with_no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = NoProxy::parse(list);
        self
    }

    /// The hosts reached directly.
    #[must_use]
    pub fn no_proxy(&self) -> &NoProxy {
        &self.no_proxy
    }

    /// The proxy `url` goes through; `None` for a direct connection.
    ///
    /// # Errors
    /// [`ProxyError::InvalidUrl`] when the proxy that applies is unusable;
    /// a URL without a host goes direct (the connection then fails on its own).
    pub fn proxy_for(&self, url: &Uri) -> Result<Option<&Proxy>, ProxyError> {
        let https = url.scheme_str() == Some("https");
        let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
        match url.host() {
            Some(host) => self.route(https, host, port),
            None => Ok(None),
        }
    }

    /// The proxy for a connection to `host:port` for an `https` (or `http`) URL.
    pub(crate) fn route(
        &self,
        https: bool,
        host: &str,
        port: u16,
    ) -> Result<Option<&Proxy>, ProxyError> {
        let route = if https { &self.https } else { &self.http };
        match route {
            Route::Direct => Ok(None),
            _ if self.no_proxy.matches(host, port) => Ok(None),
            Route::Proxy(proxy) => Ok(Some(proxy)),
            Route::Invalid { variable, reason } => Err(ProxyError::InvalidUrl {
                variable: *variable,
                reason: reason.clone(),
            }),
        }
    }
}

/// The hosts reached without the proxy: a `NO_PROXY` list.
///
/// Entries are separated by commas (blanks around them ignored), matched without regard to
/// case:
///
/// - `*` alone: every host;
/// - a domain, with or without a leading `.` or `*.` (`example.com`, `.example.com`,
///   `*.example.com`): that domain and every subdomain (`api.example.com`), never a mere
///   suffix (`badexample.com`);
/// - an IP address (`127.0.0.1`, `::1` or `[::1]`) or a CIDR block (`10.0.0.0/8`,
///   `fd00::/8`): hosts written as such addresses (names are not resolved to match);
/// - any of these followed by `:port` (`example.com:8443`, `[::1]:8080`): that port only.
///
/// Entries that are none of these are ignored. Loopback is not exempt unless listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    entries: Vec<Exemption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Exemption {
    pattern: Pattern,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// Lower case, without leading or trailing dots.
    Domain(String),
    Ip(IpAddr),
    Block(IpAddr, u8),
}

impl NoProxy {
    /// Parses a `NO_PROXY` list; entries that are not understood are ignored.
    #[must_use]
    pub fn parse(list: &str) -> Self {
        let mut no_proxy = Self::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                no_proxy.all = true;
            } else if let Some(exemption) = Exemption::parse(entry) {
                no_proxy.entries.push(exemption);
            } else {
                tracing::debug!(%entry, "ignoring a NO_PROXY entry that is not understood");
            }
        }
        no_proxy
    }

    /// Whether a connection to `host:port` bypasses the proxy. `host` may be an IPv6 address
    /// with or without brackets.
    #[must_use]
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|exemption| {
            exemption.port.is_none_or(|p| p == port)
                && match (&exemption.pattern, ip) {
                    (Pattern::Domain(domain), None) => {
                        host == *domain
                            || host
                                .strip_suffix(domain.as_str())
                                .is_some_and(|rest| rest.ends_with('.'))
                    }
                    (Pattern::Ip(exempt), Some(ip)) => *exempt == ip,
                    (Pattern::Block(network, bits), Some(ip)) => in_block(ip, *network, *bits),
                    _ => false,
                }
        })
    }
}

impl Exemption {
    fn parse(entry: &str) -> Option<Self> {
        // An address or block without a port first: a bare IPv6 address has colons.
        if let Some(pattern) = Pattern::address(entry) {
            return Some(Self {
                pattern,
                port: None,
            });
        }
        let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
            let (address, after) = rest.split_once(']')?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':')?.parse().ok()?),
            };
            return Some(Self {
                pattern: Pattern::address(address)?,
                port,
            });
        } else if let Some((host, port)) = entry.rsplit_once(':') {
            (host, Some(port.parse().ok()?))
        } else {
            (entry, None)
        };
        let pattern = match Pattern::address(host) {
            Some(pattern) => pattern,
            None => {
                let domain = host
                    .strip_prefix("*.")
                    .unwrap_or(host)
                    .trim_start_matches('.')
                    .trim_end_matches('.')
                    .to_ascii_lowercase();
                let valid = !domain.is_empty()
                    && domain
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
                if !valid {
                    return None;
                }
                Pattern::Domain(domain)
            }
        };
        Some(Self { pattern, port })
    }
}

impl Pattern {
    /// An IP address or a CIDR block.
    fn address(text: &str) -> Option<Self> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Some(Self::Ip(ip));
        }
        let (network, bits) = text.split_once('/')?;
        let network: IpAddr = network.parse().ok()?;
        let bits: u8 = bits.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        (bits <= max).then_some(Self::Block(network, bits))
    }
}

fn in_block(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

/// Parses a proxy URL; the error text never repeats the URL.
fn parse_proxy(url: &str) -> Result<Proxy, String> {
    let url = url.trim();
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            let scheme = if scheme.len() <= 16 && scheme.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                scheme.to_ascii_lowercase()
            } else {
                "its".to_owned()
            };
            return Err(format!(
                "the {scheme} scheme is not supported (only http:// proxies are)"
            ));
        }
        None => url,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if !matches!(path, "" | "/") {
        return Err("a proxy URL has no path".into());
    }
    let (credentials, host_and_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_and_port)) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let user = percent_decode(user).ok_or("invalid percent-encoding in the user name")?;
            let password =
                percent_decode(password).ok_or("invalid percent-encoding in the password")?;
            if user.contains(&b':') {
                return Err(
                    "the user name contains ':', which Basic authentication cannot carry".into(),
                );
            }
            (Some(Credentials { user, password }), host_and_port)
        }
        None => (None, authority),
    };
    let (host, port) = if let Some(rest) = host_and_port.strip_prefix('[') {
        let (address, after) = rest.split_once(']').ok_or("unclosed '[' in the host")?;
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("the host in brackets is not an IPv6 address".into());
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("junk after the host")?),
        };
        (address, port)
    } else {
        let (host, port) = match host_and_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_and_port, None),
        };
        let valid = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !valid {
            return Err("the host is missing or invalid".into());
        }
        (host, port)
    };
    let port = match port {
        None | Some("") => DEFAULT_PROXY_PORT,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or("the port is not a number from 1 to 65535")?,
    };
    Ok(Proxy {
        host: host.to_ascii_lowercase(),
        port,
        credentials,
    })
}

/// Opens a `CONNECT` tunnel to `host:port` on `stream`, a fresh connection to `proxy`.
/// `host` is a URL's host (an IPv6 address without brackets).
pub(crate) async fn tunnel<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<(), ProxyError> {
    let target = host_port(host, port);
    let io_error = |source| ProxyError::Io {
        proxy: proxy.to_string(),
        source,
    };
    let bad = |reason: String| ProxyError::BadResponse {
        proxy: proxy.to_string(),
        reason,
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(credentials) = &proxy.credentials {
        request.push_str("Proxy-Authorization: ");
        request.push_str(&credentials.basic());
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(io_error)?;
    drop(request);
    stream.flush().await.map_err(io_error)?;

    let mut limits = Limits::default();
    limits.max_head_bytes = CONNECT_HEAD_LIMIT;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 1024];
    let (head, consumed) = loop {
        match h1::parse_response_head(&buffer, &limits) {
            Ok(Some(parsed)) => break parsed,
            Ok(None) => {}
            Err(error) => return Err(bad(error.to_string())),
        }
        match stream.read(&mut chunk).await.map_err(io_error)? {
            0 => return Err(bad("it closed the connection before answering".into())),
            n => buffer.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    };
    let status = head.status();
    if !status.is_success() {
        let proxy_authenticate =
            head.headers()
                .get(http::header::PROXY_AUTHENTICATE)
                .map(|value| {
                    let text = String::from_utf8_lossy(value.as_bytes());
                    text.chars().take(CHALLENGE_LIMIT).collect()
                });
        return Err(ProxyError::Refused {
            proxy: proxy.to_string(),
            target,
            status: status.as_u16(),
            proxy_authenticate,
        });
    }
    if consumed < buffer.len() {
        // The origin speaks only when spoken to; bytes here would be lost or misread.
        return Err(bad("it sent data before the tunnel was open".into()));
    }
    tracing::debug!(%proxy, %target, "CONNECT tunnel open");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn proxy_of(config: &ProxyConfig, url: &str) -> Option<String> {
        config
            .proxy_for(&url.parse().unwrap())
            .unwrap()
            .map(ToString::to_string)
    }

    #[test]
    fn proxy_urls_parse() {
        let proxy = Proxy::parse("http://proxy.example:3128").unwrap();
        assert_eq!((proxy.host(), proxy.port()), ("proxy.example", 3128));
        assert!(!proxy.has_credentials());
        // No scheme, no port, a trailing slash, upper case.
        assert_eq!(Proxy::parse("proxy:8080").unwrap().port(), 8080);
        assert_eq!(
            Proxy::parse("HTTP://Proxy/").unwrap().to_string(),
            "proxy:80"
        );
        let v6 = Proxy::parse("http://[::1]:3128").unwrap();
        assert_eq!((v6.host(), v6.to_string().as_str()), ("::1", "[::1]:3128"));
        for bad in [
            "https://proxy:443",
            "socks5://proxy:1080",
            "http://proxy:port",
            "http://proxy:0",
            "http://proxy:70000",
            "http://:3128",
            "http://proxy:3128/path",
            "http://[::1",
            "http://[nothost]:1",
            "http://pro xy:1",
            "http://::1:3128",
            "http://a:b:3128",
            "http://u%zz:p@proxy:1",
        ] {
            assert!(Proxy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_are_decoded_and_never_shown() {
        let proxy = Proxy::parse("http://al%69ce:p%40ss%3Aw0rd@proxy:3128").unwrap();
        let credentials = proxy.credentials.clone().unwrap();
        assert_eq!(credentials.user, b"alice");
        assert_eq!(credentials.password, b"p@ss:w0rd");
        // base64("alice:p@ss:w0rd")
        assert_eq!(credentials.basic(), "Basic YWxpY2U6cEBzczp3MHJk");
        // A user without a password, a password with an '@'.
        let bare = Proxy::parse("http://bob@proxy")
            .unwrap()
            .credentials
            .unwrap();
        assert_eq!(
            (bare.user.as_slice(), bare.password.as_slice()),
            (&b"bob"[..], &b""[..])
        );
        let at = Proxy::parse("http://u:a@b@proxy")
            .unwrap()
            .credentials
            .unwrap();
        assert_eq!(at.password, b"a@b");

        let config = ProxyConfig::fixed("http://alice:hunter2@proxy:3128").unwrap();
        let shown = format!("{config:?} {proxy:?} {proxy}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("alice"),
            "{shown}"
        );
        assert!(!shown.contains("p@ss"), "{shown}");
        // Errors do not repeat the URL either.
        let error = Proxy::parse("https://alice:hunter2@proxy")
            .unwrap_err()
            .to_string();
        assert!(
            !error.contains("hunter2") && error.contains("https"),
            "{error}"
        );
        let error = Proxy::parse("http://alice:hunter2@proxy:x")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn no_proxy_matches_domains_addresses_and_ports() {
        let list = NoProxy::parse(
            " example.com, .corp.test ,*.wild.test, 10.0.0.0/8, 192.168.1.7, ::1, \
             [fd00::1]:8080, only-port.test:8443, fd12::/16, 127.0.0.1:9999, bad entry, 1.2.3.4/99",
        );
        let yes = [
            ("example.com", 443),
            ("EXAMPLE.com.", 80),
            ("api.example.com", 80),
            ("corp.test", 80),
            ("a.b.corp.test", 80),
            ("wild.test", 80),
            ("x.wild.test", 80),
            ("10.1.2.3", 80),
            ("192.168.1.7", 1),
            ("::1", 80),
            ("[::1]", 80),
            ("fd00::1", 8080),
            ("only-port.test", 8443),
            ("fd12:3456::1", 80),
            ("127.0.0.1", 9999),
        ];
        for (host, port) in yes {
            assert!(list.matches(host, port), "{host}:{port} is exempt");
        }
        let no = [
            ("badexample.com", 80),
            ("example.com.evil", 80),
            ("corp.testx", 80),
            ("11.0.0.1", 80),
            ("192.168.1.8", 80),
            ("fd00::1", 8081),
            ("only-port.test", 443),
            ("127.0.0.1", 80),
            ("localhost", 80),
            ("1.2.3.4", 80),
            ("entry", 80),
        ];
        for (host, port) in no {
            assert!(!list.matches(host, port), "{host}:{port} is proxied");
        }
        assert!(NoProxy::parse("a.test, *").matches("anything", 1));
        assert!(!NoProxy::parse("").matches("localhost", 80));
        assert!(NoProxy::parse("0.0.0.0/0").matches("8.8.8.8", 53));
        assert!(!NoProxy::parse("0.0.0.0/0").matches("::1", 53));
    }

    #[test]
    fn the_environment_picks_a_proxy_per_scheme() {
        let config = ProxyConfig::from_env_with(env(&[
            ("HTTPS_PROXY", "http://secure-proxy:3128"),
            ("http_proxy", "plain-proxy:8080"),
            ("HTTP_PROXY", "http://upper:1"),
            ("no_proxy", "internal.test"),
        ]));
        assert_eq!(
            proxy_of(&config, "https://example.com/mcp").as_deref(),
            Some("secure-proxy:3128")
        );
        // The lower-case name wins.
        assert_eq!(
            proxy_of(&config, "http://example.com/mcp").as_deref(),
            Some("plain-proxy:8080")
        );
        assert_eq!(proxy_of(&config, "https://api.internal.test/mcp"), None);
        // Loopback is proxied unless listed.
        assert_eq!(
            proxy_of(&config, "http://127.0.0.1:8080/mcp").as_deref(),
            Some("plain-proxy:8080")
        );
    }

    #[test]
    fn all_proxy_fills_in_and_empty_values_are_unset() {
        let config = ProxyConfig::from_env_with(env(&[
            ("ALL_PROXY", "http://all:3128"),
            ("https_proxy", ""),
            ("HTTPS_PROXY", "  "),
        ]));
        assert_eq!(proxy_of(&config, "https://x/").as_deref(), Some("all:3128"));
        assert_eq!(proxy_of(&config, "http://x/").as_deref(), Some("all:3128"));
        let nothing = ProxyConfig::from_env_with(env(&[]));
        assert_eq!(nothing, ProxyConfig::none());
        assert_eq!(proxy_of(&nothing, "https://x/"), None);
    }

    #[test]
    fn http_proxy_is_ignored_under_cgi() {
        let config = ProxyConfig::from_env_with(env(&[
            ("HTTP_PROXY", "http://injected:1"),
            ("REQUEST_METHOD", "GET"),
        ]));
        assert_eq!(proxy_of(&config, "http://x/"), None);
        let config = ProxyConfig::from_env_with(env(&[
            ("http_proxy", "http://chosen:1"),
            ("REQUEST_METHOD", "GET"),
        ]));
        assert_eq!(proxy_of(&config, "http://x/").as_deref(), Some("chosen:1"));
    }

    #[test]
    fn an_unusable_proxy_setting_fails_instead_of_going_around_it() {
        let config = ProxyConfig::from_env_with(env(&[
            ("HTTPS_PROXY", "socks5://user:pw@proxy:1080"),
            ("NO_PROXY", "direct.test"),
        ]));
        let error = config
            .proxy_for(&"https://example.com/".parse().unwrap())
            .unwrap_err();
        assert!(
            matches!(
                error,
                ProxyError::InvalidUrl {
                    variable: Some("HTTPS_PROXY"),
                    ..
                }
            ),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(text.contains("HTTPS_PROXY") && text.contains("socks5") && !text.contains("pw"));
        // Exempt hosts and other schemes are unaffected.
        assert_eq!(proxy_of(&config, "https://direct.test/"), None);
        assert_eq!(proxy_of(&config, "http://example.com/"), None);
    }

    #[test]
    fn tunnels_send_connect_with_credentials() {
        // A scripted proxy: the client's bytes are captured, the answer is canned.
        let proxy = Proxy::parse("http://user:pa%20ss@proxy:3128").unwrap();
        let run = |answer: &'static str, host: &'static str| {
            let mut stream = Scripted {
                answer: answer.as_bytes().to_vec(),
                written: Vec::new(),
            };
            let result = futures_lite::future::block_on(tunnel(&mut stream, &proxy, host, 8443));
            (result, String::from_utf8(stream.written).unwrap())
        };
        let (result, written) = run("HTTP/1.1 200 Connection established\r\n\r\n", "::1");
        result.unwrap();
        assert_eq!(
            written,
            "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\
             Proxy-Authorization: Basic dXNlcjpwYSBzcw==\r\n\r\n"
        );
        let (result, _) = run(
            "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n",
            "example.com",
        );
        match result.unwrap_err() {
            ProxyError::Refused {
                status,
                proxy_authenticate,
                target,
                ..
            } => {
                assert_eq!(status, 407);
                assert_eq!(target, "example.com:8443");
                assert_eq!(proxy_authenticate.as_deref(), Some("Basic realm=\"p\""));
            }
            other => panic!("{other:?}"),
        }
        let (result, _) = run("", "example.com");
        assert!(matches!(result, Err(ProxyError::BadResponse { .. })));
        let (result, _) = run("HTTP/1.1 200 OK\r\n\r\nearly", "example.com");
        assert!(matches!(result, Err(ProxyError::BadResponse { .. })));
        let (result, _) = run("SSH-2.0-OpenSSH\r\n\r\n", "example.com");
        assert!(matches!(result, Err(ProxyError::BadResponse { .. })));
        // A head longer than the bound is refused, even a complete and successful one.
        let oversized: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\n{}\r\n",
                format!("X-Pad: {}\r\n", "y".repeat(500)).repeat(20)
            )
            .into_boxed_str(),
        );
        let (result, _) = run(oversized, "example.com");
        assert!(
            matches!(result, Err(ProxyError::BadResponse { .. })),
            "{result:?}"
        );
    }

    /// A stream that answers with canned bytes and records what is written.
    struct Scripted {
        answer: Vec<u8>,
        written: Vec<u8>,
    }

    impl AsyncRead for Scripted {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<io::Result<usize>> {
            let n = buf.len().min(self.answer.len());
            buf[..n].copy_from_slice(&self.answer[..n]);
            self.answer.drain(..n);
            std::task::Poll::Ready(Ok(n))
        }
    }

    impl AsyncWrite for Scripted {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<io::Result<usize>> {
            self.written.extend_from_slice(buf);
            std::task::Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }
}
