//! Absolute `http(s)` URLs as OAuth needs them: parsed strictly, compared by origin and path,
//! rendered canonically, and checked against a transport-security policy.
//!
//! [`HttpUrl`] accepts only `http://` and `https://` URLs written in visible ASCII (an IRI must
//! be percent-encoded first), with a host, without user information and without a fragment.
//! The scheme and host are lowercased and a default port (80, 443) is dropped, so two spellings
//! of one origin compare equal; the path and query are kept exactly as written.
//!
//! The form encoder ([`form_encode`], [`encode_component`]) and decoder ([`parse_form`]) cover
//! `application/x-www-form-urlencoded` bodies, query strings, and the RFC 6749 §2.3.1 encoding
//! of client credentials.
//!
//! ```
//! use mcp_proto::auth::url::HttpUrl;
//!
//! let url = HttpUrl::parse("HTTPS://MCP.Example.com:443/mcp/").unwrap();
//! assert_eq!(url.origin(), "https://mcp.example.com");
//! assert_eq!(url.canonical_resource(), "https://mcp.example.com/mcp");
//! assert!(HttpUrl::parse("https://mcp.example.com/mcp#top").is_err());
//! ```

use std::fmt;

use core::net::{Ipv4Addr, Ipv6Addr};

/// The longest URL [`HttpUrl::parse`] accepts, in bytes.
pub const MAX_URL_LEN: usize = 4096;

/// The most name/value pairs [`parse_form`] accepts.
pub const MAX_FORM_PAIRS: usize = 64;

/// Why a URL was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Longer than [`MAX_URL_LEN`].
    #[error("URL is {len} bytes, more than {max}")]
    TooLong {
        /// The URL's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A byte outside visible ASCII (spaces, controls, raw non-ASCII).
    #[error("URL has an invalid byte 0x{byte:02x} at offset {position}")]
    InvalidByte {
        /// The byte.
        byte: u8,
        /// Its offset.
        position: usize,
    },
    /// Not an absolute URL with `://`.
    #[error("not an absolute URL")]
    NotAbsolute,
    /// A scheme other than `http` or `https`.
    #[error("scheme {0:?} is not http or https")]
    UnsupportedScheme(String),
    /// `user:password@` before the host.
    #[error("URL carries user information")]
    UserInfo,
    /// No host, or a host with characters a host cannot have.
    #[error("invalid host {0:?}")]
    InvalidHost(String),
    /// A port that is not a number from 1 to 65535.
    #[error("invalid port {0:?}")]
    InvalidPort(String),
    /// A `#fragment` (never allowed in OAuth endpoints or resource identifiers).
    #[error("URL has a fragment")]
    Fragment,
    /// A `%` not followed by two hexadecimal digits.
    #[error("invalid percent-encoding at offset {0}")]
    PercentEncoding(usize),
    /// Plain `http` to a host that is not loopback, or to loopback while that is not allowed.
    #[error("{url} is not https (plain http is allowed only to loopback hosts, when enabled)")]
    Insecure {
        /// The URL.
        url: String,
    },
    /// An IP-literal host in a private, link-local or unspecified range (SSRF protection).
    #[error("{url} names a private or link-local address")]
    PrivateAddress {
        /// The URL.
        url: String,
    },
}

/// Which URLs may be fetched or opened during authorization (spec-checklist §8 "HTTPS for all
/// AS endpoints", §9 SSRF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlPolicy {
    /// Allow plain `http://` to loopback hosts (`localhost`, `*.localhost`, `127.0.0.0/8`,
    /// `[::1]`), for development and test servers. Off by default.
    pub allow_insecure_loopback: bool,
    /// Allow IP-literal hosts in private, link-local, shared or unspecified ranges even when the
    /// MCP server itself is not on that address. Off by default.
    pub allow_private_addresses: bool,
}

/// An absolute `http`/`https` URL without user information or fragment.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl {
    secure: bool,
    host: String,
    port: Option<u16>,
    path: String,
    query: Option<String>,
}

impl HttpUrl {
    /// Parses an absolute `http(s)` URL.
    ///
    /// # Errors
    /// See [`UrlError`]; a fragment is [`UrlError::Fragment`].
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        if input.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong {
                len: input.len(),
                max: MAX_URL_LEN,
            });
        }
        if let Some((position, &byte)) = input
            .as_bytes()
            .iter()
            .enumerate()
            .find(|(_, byte)| !(0x21..=0x7e).contains(*byte))
        {
            return Err(UrlError::InvalidByte { byte, position });
        }
        if input.contains('#') {
            return Err(UrlError::Fragment);
        }
        let (scheme, rest) = input.split_once("://").ok_or(UrlError::NotAbsolute)?;
        let secure = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(UrlError::UnsupportedScheme(scheme.to_owned()));
        };
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, after) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            Some(80) if !secure => None,
            Some(443) if secure => None,
            other => other,
        };
        let (path, query) = match after.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (after, None),
        };
        let base = input.len() - after.len();
        check_percent_encoding(path, base)?;
        if let Some(query) = query {
            check_percent_encoding(query, base + path.len() + 1)?;
        }
        Ok(Self {
            secure,
            host,
            port,
            path: path.to_owned(),
            query: query.map(str::to_owned),
        })
    }

    /// Whether the scheme is `https`.
    pub const fn is_https(&self) -> bool {
        self.secure
    }

    /// The scheme, `http` or `https`.
    pub const fn scheme(&self) -> &'static str {
        if self.secure { "https" } else { "http" }
    }

    /// The host, lowercased (an IPv6 literal keeps its brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port when it is not the scheme's default.
    pub const fn port(&self) -> Option<u16> {
        self.port
    }

    /// The path as written (`""` or starting with `/`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query (without `?`), as written.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme(), self.host),
            None => format!("{}://{}", self.scheme(), self.host),
        }
    }

    /// Whether `other` has the same scheme, host and port.
    pub fn same_origin(&self, other: &Self) -> bool {
        self.secure == other.secure && self.host == other.host && self.port == other.port
    }

    /// The canonical resource identifier (MCP "Canonical Server URI", RFC 8707 §2): lowercase
    /// scheme and host, no default port, no fragment, the path without a trailing `/` (a bare
    /// origin has no path at all), the query kept.
    pub fn canonical_resource(&self) -> String {
        let mut out = self.origin();
        out.push_str(self.path_without_trailing_slash());
        if let Some(query) = &self.query {
            out.push('?');
            out.push_str(query);
        }
        out
    }

    /// The path with one trailing `/` removed (`"/"` becomes `""`).
    pub(crate) fn path_without_trailing_slash(&self) -> &str {
        self.path.strip_suffix('/').unwrap_or(&self.path)
    }

    /// The same origin with another path (which must be `""` or start with `/`) and no query.
    pub(crate) fn with_path(&self, path: &str) -> Self {
        Self {
            secure: self.secure,
            host: self.host.clone(),
            port: self.port,
            path: path.to_owned(),
            query: None,
        }
    }

    /// The same URL with `pairs` appended to its query, form-encoded.
    pub fn with_query_pairs<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut query = self.query.clone().unwrap_or_default();
        for (name, value) in pairs {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&encode_component(name));
            query.push('=');
            query.push_str(&encode_component(value));
        }
        Self {
            query: Some(query),
            ..self.clone()
        }
    }

    /// The URL as an [`http::Uri`] (for an absolute-form request target).
    ///
    /// # Errors
    /// Only if `http` refuses a URL this type accepted (not expected).
    pub fn to_uri(&self) -> Result<http::Uri, UrlError> {
        self.to_string()
            .parse()
            .map_err(|_| UrlError::InvalidHost(self.host.clone()))
    }

    /// Whether the host is loopback: `localhost`, a `*.localhost` name, `127.0.0.0/8` or `[::1]`.
    pub fn is_loopback(&self) -> bool {
        if self.host == "localhost" || self.host.ends_with(".localhost") {
            return true;
        }
        match self.ip() {
            Some(Ip::V4(ip)) => ip.is_loopback(),
            Some(Ip::V6(ip)) => ip.is_loopback(),
            None => false,
        }
    }

    /// Whether the host is an IP literal in a private (10/8, 172.16/12, 192.168/16, fc00::/7),
    /// shared (100.64/10), link-local (169.254/16, fe80::/10) or unspecified range. Cloud
    /// metadata services live at link-local addresses.
    pub fn is_private_address(&self) -> bool {
        match self.ip() {
            Some(Ip::V4(ip)) => ipv4_is_private(ip),
            Some(Ip::V6(ip)) => match ip.to_ipv4_mapped() {
                Some(mapped) => ipv4_is_private(mapped),
                None => {
                    let first = ip.segments().first().copied().unwrap_or(0);
                    ip.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
                }
            },
            None => false,
        }
    }

    /// Checks this URL against `policy` before it is fetched or opened. `server` is the MCP
    /// server's URL: its own host is always allowed as an address, so a server on a private
    /// network can still publish metadata next to itself.
    ///
    /// # Errors
    /// [`UrlError::Insecure`] or [`UrlError::PrivateAddress`].
    pub fn check(&self, policy: &UrlPolicy, server: &Self) -> Result<(), UrlError> {
        let allowed = self.secure || (policy.allow_insecure_loopback && self.is_loopback());
        if !allowed {
            return Err(UrlError::Insecure {
                url: self.to_string(),
            });
        }
        if self.is_private_address() && !policy.allow_private_addresses && self.host != server.host
        {
            return Err(UrlError::PrivateAddress {
                url: self.to_string(),
            });
        }
        Ok(())
    }

    fn ip(&self) -> Option<Ip> {
        if let Some(inner) = self
            .host
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            return inner.parse::<Ipv6Addr>().ok().map(Ip::V6);
        }
        self.host.parse::<Ipv4Addr>().ok().map(Ip::V4)
    }
}

enum Ip {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

fn ipv4_is_private(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || (a == 100 && (64..128).contains(&b))
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())?;
        f.write_str(&self.path)?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpUrl({self})")
    }
}

impl std::str::FromStr for HttpUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>), UrlError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let close = rest
            .find(']')
            .ok_or_else(|| UrlError::InvalidHost(authority.to_owned()))?;
        let (inner, after) = rest.split_at(close);
        let after = after.get(1..).unwrap_or_default();
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|byte| byte.is_ascii_hexdigit() || byte == b':' || byte == b'.')
            || inner.parse::<Ipv6Addr>().is_err()
        {
            return Err(UrlError::InvalidHost(authority.to_owned()));
        }
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err(UrlError::InvalidHost(authority.to_owned())),
        };
        (format!("[{}]", inner.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if host.is_empty() || !host.bytes().all(is_reg_name_byte) {
            return Err(UrlError::InvalidHost(authority.to_owned()));
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None | Some("") => None,
        Some(digits) => {
            let valid = digits.len() <= 5 && digits.bytes().all(|byte| byte.is_ascii_digit());
            match digits.parse::<u16>() {
                Ok(port) if valid && port != 0 => Some(port),
                _ => return Err(UrlError::InvalidPort(digits.to_owned())),
            }
        }
    };
    Ok((host, port))
}

/// RFC 3986 reg-name bytes: unreserved, sub-delims and `%` (checked separately).
const fn is_reg_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b'%'
        )
}

fn check_percent_encoding(part: &str, base: usize) -> Result<(), UrlError> {
    let bytes = part.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'%' {
            let valid = matches!(
                (bytes.get(index + 1), bytes.get(index + 2)),
                (Some(high), Some(low)) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit()
            );
            if !valid {
                return Err(UrlError::PercentEncoding(base + index));
            }
        }
    }
    Ok(())
}

/// Percent-encodes `value` for a query string or form body: every byte except the RFC 3986
/// unreserved characters (`A–Z a–z 0–9 - . _ ~`) becomes `%XX` (a space is `%20`, which both
/// form decoders and `decodeURIComponent`-style decoders read back as a space).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
    }
    out
}

/// Encodes name/value pairs as an `application/x-www-form-urlencoded` body or query string.
pub fn form_encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_component(name));
        out.push('=');
        out.push_str(&encode_component(value));
    }
    out
}

/// Why a form body or query string could not be decoded.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// More than [`MAX_FORM_PAIRS`] pairs.
    #[error("more than {max} form fields")]
    TooManyPairs {
        /// The limit.
        max: usize,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error("invalid percent-encoding")]
    PercentEncoding,
    /// The decoded bytes are not UTF-8.
    #[error("form field is not UTF-8")]
    NotUtf8,
}

/// Decodes an `application/x-www-form-urlencoded` body or query string (`+` is a space, empty
/// pieces between `&`s are skipped, a piece without `=` has an empty value).
///
/// # Errors
/// See [`FormError`].
pub fn parse_form(input: &str) -> Result<Vec<(String, String)>, FormError> {
    let mut pairs = Vec::new();
    for piece in input.split('&').filter(|piece| !piece.is_empty()) {
        if pairs.len() == MAX_FORM_PAIRS {
            return Err(FormError::TooManyPairs {
                max: MAX_FORM_PAIRS,
            });
        }
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(pairs)
}

fn decode_component(input: &str) -> Result<String, FormError> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.get(index + 1).and_then(|digit| hex_value(*digit));
                let low = bytes.get(index + 2).and_then(|digit| hex_value(*digit));
                match (high, low) {
                    (Some(high), Some(low)) => out.push(high << 4 | low),
                    _ => return Err(FormError::PercentEncoding),
                }
                index += 2;
            }
            other => out.push(other),
        }
        index += 1;
    }
    String::from_utf8(out).map_err(|_| FormError::NotUtf8)
}

/// The uppercase hexadecimal digit of a nibble.
const fn hex_digit(nibble: u8) -> char {
    match nibble {
        0..=9 => (b'0' + nibble) as char,
        _ => (b'A' + (nibble & 0x0f) - 10) as char,
    }
}

const fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises_origins() {
        let url = HttpUrl::parse("HTTP://LocalHost:80/a/B?x=Y").unwrap();
        assert_eq!(url.to_string(), "http://localhost/a/B?x=Y");
        assert_eq!(url.port(), None);
        let url = HttpUrl::parse("https://example.com:8443").unwrap();
        assert_eq!(url.origin(), "https://example.com:8443");
        assert_eq!(url.path(), "");
        assert_eq!(url.canonical_resource(), "https://example.com:8443");
        let url = HttpUrl::parse("http://[::1]:3000/mcp").unwrap();
        assert_eq!(url.host(), "[::1]");
        assert!(url.is_loopback());
        assert_eq!(HttpUrl::parse("http://host:/p").unwrap().port(), None);
    }

    #[test]
    fn refuses_what_oauth_forbids() {
        assert_eq!(HttpUrl::parse("https://a/b#c"), Err(UrlError::Fragment));
        assert_eq!(HttpUrl::parse("https://u:p@a/"), Err(UrlError::UserInfo));
        assert!(matches!(
            HttpUrl::parse("javascript:alert(1)"),
            Err(UrlError::NotAbsolute)
        ));
        assert!(matches!(
            HttpUrl::parse("file:///etc/passwd"),
            Err(UrlError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            HttpUrl::parse("https://a b/"),
            Err(UrlError::InvalidByte { byte: b' ', .. })
        ));
        assert!(matches!(
            HttpUrl::parse("https:///path"),
            Err(UrlError::InvalidHost(_))
        ));
        assert!(matches!(
            HttpUrl::parse("https://a:99999/"),
            Err(UrlError::InvalidPort(_))
        ));
        assert!(matches!(
            HttpUrl::parse("https://a:0/"),
            Err(UrlError::InvalidPort(_))
        ));
        assert!(matches!(
            HttpUrl::parse("https://a/%zz"),
            Err(UrlError::PercentEncoding(10))
        ));
        assert!(matches!(
            HttpUrl::parse("https://[zz]/"),
            Err(UrlError::InvalidHost(_))
        ));
        assert!(matches!(
            HttpUrl::parse(&format!("https://a/{}", "x".repeat(MAX_URL_LEN))),
            Err(UrlError::TooLong { .. })
        ));
    }

    #[test]
    fn canonical_resource_drops_one_trailing_slash_and_keeps_case_of_path() {
        let url = HttpUrl::parse("HTTPS://MCP.EXAMPLE.COM/Server/MCP/").unwrap();
        assert_eq!(
            url.canonical_resource(),
            "https://mcp.example.com/Server/MCP"
        );
        let url = HttpUrl::parse("https://mcp.example.com/").unwrap();
        assert_eq!(url.canonical_resource(), "https://mcp.example.com");
        let url = HttpUrl::parse("https://mcp.example.com/mcp?tenant=a").unwrap();
        assert_eq!(
            url.canonical_resource(),
            "https://mcp.example.com/mcp?tenant=a"
        );
    }

    #[test]
    fn policy_requires_https_except_allowed_loopback() {
        let server = HttpUrl::parse("https://mcp.example.com/mcp").unwrap();
        let strict = UrlPolicy::default();
        let dev = UrlPolicy {
            allow_insecure_loopback: true,
            ..UrlPolicy::default()
        };
        let loopback = HttpUrl::parse("http://127.0.0.1:9000/token").unwrap();
        assert!(matches!(
            loopback.check(&strict, &server),
            Err(UrlError::Insecure { .. })
        ));
        assert_eq!(loopback.check(&dev, &server), Ok(()));
        let plain = HttpUrl::parse("http://as.example.com/token").unwrap();
        assert!(plain.check(&dev, &server).is_err());
        let metadata = HttpUrl::parse("https://169.254.169.254/latest").unwrap();
        assert!(matches!(
            metadata.check(&strict, &server),
            Err(UrlError::PrivateAddress { .. })
        ));
        let private_server = HttpUrl::parse("https://10.0.0.5/mcp").unwrap();
        let next_to_it = HttpUrl::parse("https://10.0.0.5/.well-known/x").unwrap();
        assert_eq!(next_to_it.check(&strict, &private_server), Ok(()));
        for private in [
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:10.0.0.1]/",
        ] {
            assert!(
                HttpUrl::parse(private).unwrap().is_private_address(),
                "{private}"
            );
        }
        for public in [
            "https://8.8.8.8/",
            "https://[2001:db8::1]/",
            "https://example.com/",
        ] {
            assert!(
                !HttpUrl::parse(public).unwrap().is_private_address(),
                "{public}"
            );
        }
    }

    #[test]
    fn form_encoding_round_trips_reserved_characters() {
        let value = "a b+c&d=e%f/g:h?i#j~k.l_m-n\u{e9}";
        let encoded = form_encode([("k y", value)]);
        assert_eq!(
            encoded,
            "k%20y=a%20b%2Bc%26d%3De%25f%2Fg%3Ah%3Fi%23j~k.l_m-n%C3%A9"
        );
        assert_eq!(
            parse_form(&encoded).unwrap(),
            vec![("k y".to_owned(), value.to_owned())]
        );
        assert_eq!(
            parse_form("a=1&&b&c=x+y").unwrap(),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), String::new()),
                ("c".to_owned(), "x y".to_owned())
            ]
        );
        assert_eq!(parse_form("a=%4"), Err(FormError::PercentEncoding));
        assert_eq!(parse_form("a=%ff"), Err(FormError::NotUtf8));
        assert!(matches!(
            parse_form(&"a=1&".repeat(MAX_FORM_PAIRS + 1)),
            Err(FormError::TooManyPairs { .. })
        ));
    }

    #[test]
    fn query_pairs_append() {
        let url = HttpUrl::parse("https://as.example.com/authorize?tenant=x").unwrap();
        let url = url.with_query_pairs([("scope", "a b"), ("state", "s")]);
        assert_eq!(
            url.to_string(),
            "https://as.example.com/authorize?tenant=x&scope=a%20b&state=s"
        );
        assert!(url.to_uri().is_ok());
    }
}
