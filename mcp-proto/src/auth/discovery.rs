//! Discovery decisions as pure functions: which URLs to try, in which order.
//!
//! **Protected Resource Metadata** ([`resource_metadata_urls`], spec-checklist §8, RFC 9728
//! §3.1 and §5): the `resource_metadata` URL of the 401 challenge first; then the path-aware
//! well-known URL `<origin>/.well-known/oauth-protected-resource<path>`; then the root
//! `<origin>/.well-known/oauth-protected-resource` (only when it differs). A client that asks
//! for the root first fails the conformance trap `prm-priority-order`.
//!
//! **Authorization Server Metadata** ([`authorization_server_metadata_urls`]): for an issuer
//! with a path, `/.well-known/oauth-authorization-server<path>`, then
//! `/.well-known/openid-configuration<path>`, then `<path>/.well-known/openid-configuration`;
//! for an issuer without one, `/.well-known/oauth-authorization-server`, then
//! `/.well-known/openid-configuration`. The root document of a path issuer is never asked for
//! (the conformance trap `authorization-server-metadata-wrong-path`).
//!
//! **2025-03-26 servers** (no PRM at all): the authorization base URL is the MCP server's
//! origin, so its metadata is `<origin>/.well-known/oauth-authorization-server`
//! ([`legacy_metadata_url`]); without that document, the default endpoints `<origin>/authorize`,
//! `<origin>/token` and `<origin>/register` apply ([`legacy_default_endpoints`]).
//!
//! ```
//! use mcp_proto::auth::discovery::{authorization_server_metadata_urls, resource_metadata_urls};
//! use mcp_proto::auth::url::HttpUrl;
//!
//! let server = HttpUrl::parse("https://mcp.example.com/mcp").unwrap();
//! let urls: Vec<String> = resource_metadata_urls(&server, None).iter().map(ToString::to_string).collect();
//! assert_eq!(urls, [
//!     "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
//!     "https://mcp.example.com/.well-known/oauth-protected-resource",
//! ]);
//! let urls: Vec<String> = authorization_server_metadata_urls("https://auth.example.com/tenant1")
//!     .unwrap().iter().map(ToString::to_string).collect();
//! assert_eq!(urls, [
//!     "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
//!     "https://auth.example.com/.well-known/openid-configuration/tenant1",
//!     "https://auth.example.com/tenant1/.well-known/openid-configuration",
//! ]);
//! ```

use super::metadata::Endpoints;
use super::url::{HttpUrl, UrlError};

/// The RFC 9728 well-known path.
pub const PROTECTED_RESOURCE_WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
/// The RFC 8414 well-known path.
pub const AUTHORIZATION_SERVER_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
/// The OpenID Connect Discovery well-known path.
pub const OPENID_CONFIGURATION_WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// The Protected Resource Metadata URLs to try for the MCP server at `server`, in order.
/// `header` is the challenge's `resource_metadata`; a value that is not an absolute http(s)
/// URL is skipped (the well-known URLs still apply).
pub fn resource_metadata_urls(server: &HttpUrl, header: Option<&str>) -> Vec<HttpUrl> {
    let mut urls = Vec::with_capacity(3);
    if let Some(url) = header.and_then(|value| HttpUrl::parse(value).ok()) {
        urls.push(url);
    }
    let mut path_aware = format!(
        "{PROTECTED_RESOURCE_WELL_KNOWN}{}",
        server.path_without_trailing_slash()
    );
    if let Some(query) = server.query() {
        path_aware.push('?');
        path_aware.push_str(query);
    }
    for candidate in [
        parse_on(server, &path_aware),
        Some(server.with_path(PROTECTED_RESOURCE_WELL_KNOWN)),
    ]
    .into_iter()
    .flatten()
    {
        if !urls.contains(&candidate) {
            urls.push(candidate);
        }
    }
    urls
}

fn parse_on(origin: &HttpUrl, path_and_query: &str) -> Option<HttpUrl> {
    HttpUrl::parse(&format!("{}{path_and_query}", origin.origin())).ok()
}

/// Why an issuer identifier cannot be used to find metadata.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    /// Not an absolute http(s) URL without fragment.
    #[error("invalid issuer {issuer:?}")]
    Invalid {
        /// The value.
        issuer: String,
        /// Why.
        #[source]
        source: UrlError,
    },
    /// An issuer with a query component (RFC 8414 §2 forbids it).
    #[error("issuer {0:?} has a query component")]
    Query(String),
}

/// The authorization server metadata URLs for `issuer`, in the spec's order (RFC 8414 first,
/// then OpenID Connect Discovery; path-aware when the issuer has a path).
///
/// # Errors
/// [`IssuerError`] for an issuer that is not an http(s) URL, or that has a query.
pub fn authorization_server_metadata_urls(issuer: &str) -> Result<Vec<HttpUrl>, IssuerError> {
    let url = HttpUrl::parse(issuer).map_err(|source| IssuerError::Invalid {
        issuer: issuer.to_owned(),
        source,
    })?;
    if url.query().is_some() {
        return Err(IssuerError::Query(issuer.to_owned()));
    }
    // RFC 8414 §3.1: a terminating "/" of the issuer is removed before inserting.
    let path = url.path_without_trailing_slash();
    let candidates = if path.is_empty() {
        vec![
            format!("{AUTHORIZATION_SERVER_WELL_KNOWN}"),
            format!("{OPENID_CONFIGURATION_WELL_KNOWN}"),
        ]
    } else {
        vec![
            format!("{AUTHORIZATION_SERVER_WELL_KNOWN}{path}"),
            format!("{OPENID_CONFIGURATION_WELL_KNOWN}{path}"),
            format!("{path}{OPENID_CONFIGURATION_WELL_KNOWN}"),
        ]
    };
    Ok(candidates
        .iter()
        .filter_map(|path| parse_on(&url, path))
        .collect())
}

/// The 2025-03-26 metadata URL: RFC 8414 at the MCP server's origin (the path is discarded).
pub fn legacy_metadata_url(server: &HttpUrl) -> HttpUrl {
    server.with_path(AUTHORIZATION_SERVER_WELL_KNOWN)
}

/// The 2025-03-26 default endpoints at the MCP server's origin, for a server with no metadata.
pub fn legacy_default_endpoints(server: &HttpUrl) -> Endpoints {
    Endpoints {
        authorization: Some(server.with_path("/authorize")),
        token: server.with_path("/token"),
        registration: Some(server.with_path("/register")),
    }
}

/// The canonical URI of an MCP server URL (see [`HttpUrl::canonical_resource`]), the `resource`
/// value when no Protected Resource Metadata names one.
///
/// # Errors
/// [`UrlError`] for a URL that is not absolute http(s), or that has a fragment.
pub fn canonical_resource_uri(server_url: &str) -> Result<String, UrlError> {
    HttpUrl::parse(server_url).map(|url| url.canonical_resource())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(urls: &[HttpUrl]) -> Vec<String> {
        urls.iter().map(ToString::to_string).collect()
    }

    fn server(value: &str) -> HttpUrl {
        HttpUrl::parse(value).unwrap()
    }

    #[test]
    fn prm_order_header_first() {
        let mcp = server("http://localhost:3000/mcp");
        assert_eq!(
            strings(&resource_metadata_urls(
                &mcp,
                Some("http://localhost:3000/custom/metadata/location.json")
            )),
            [
                "http://localhost:3000/custom/metadata/location.json",
                "http://localhost:3000/.well-known/oauth-protected-resource/mcp",
                "http://localhost:3000/.well-known/oauth-protected-resource",
            ]
        );
        // The header naming the path-aware URL is not tried twice.
        assert_eq!(
            strings(&resource_metadata_urls(
                &mcp,
                Some("http://localhost:3000/.well-known/oauth-protected-resource/mcp")
            )),
            [
                "http://localhost:3000/.well-known/oauth-protected-resource/mcp",
                "http://localhost:3000/.well-known/oauth-protected-resource",
            ]
        );
        // An unusable header value is skipped.
        assert_eq!(resource_metadata_urls(&mcp, Some("not a url")).len(), 2);
        assert_eq!(resource_metadata_urls(&mcp, Some("https://x/y#z")).len(), 2);
    }

    #[test]
    fn prm_for_root_and_nested_servers() {
        assert_eq!(
            strings(&resource_metadata_urls(
                &server("https://mcp.example.com/"),
                None
            )),
            ["https://mcp.example.com/.well-known/oauth-protected-resource"]
        );
        assert_eq!(
            strings(&resource_metadata_urls(
                &server("https://mcp.example.com/a/b/?t=1"),
                None
            )),
            [
                "https://mcp.example.com/.well-known/oauth-protected-resource/a/b?t=1",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ]
        );
    }

    #[test]
    fn as_metadata_orders_from_the_scenarios() {
        // auth/metadata-default and metadata-var1: issuer without a path.
        assert_eq!(
            strings(&authorization_server_metadata_urls("http://localhost:4000").unwrap()),
            [
                "http://localhost:4000/.well-known/oauth-authorization-server",
                "http://localhost:4000/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            strings(&authorization_server_metadata_urls("http://localhost:4000/").unwrap()),
            [
                "http://localhost:4000/.well-known/oauth-authorization-server",
                "http://localhost:4000/.well-known/openid-configuration",
            ]
        );
        // auth/metadata-var2 (RFC 8414 path-aware) and var3 (OIDC path-appended).
        assert_eq!(
            strings(&authorization_server_metadata_urls("http://localhost:4000/tenant1").unwrap()),
            [
                "http://localhost:4000/.well-known/oauth-authorization-server/tenant1",
                "http://localhost:4000/.well-known/openid-configuration/tenant1",
                "http://localhost:4000/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            strings(&authorization_server_metadata_urls("https://as.example.com/a/b/").unwrap()),
            [
                "https://as.example.com/.well-known/oauth-authorization-server/a/b",
                "https://as.example.com/.well-known/openid-configuration/a/b",
                "https://as.example.com/a/b/.well-known/openid-configuration",
            ]
        );
        assert!(matches!(
            authorization_server_metadata_urls("https://as.example.com/?x=1"),
            Err(IssuerError::Query(_))
        ));
        assert!(matches!(
            authorization_server_metadata_urls("as.example.com"),
            Err(IssuerError::Invalid { .. })
        ));
    }

    #[test]
    fn legacy_fallbacks_live_at_the_origin() {
        let mcp = server("http://localhost:3000/some/mcp");
        assert_eq!(
            legacy_metadata_url(&mcp).to_string(),
            "http://localhost:3000/.well-known/oauth-authorization-server"
        );
        let endpoints = legacy_default_endpoints(&mcp);
        assert_eq!(
            endpoints.authorization.unwrap().to_string(),
            "http://localhost:3000/authorize"
        );
        assert_eq!(endpoints.token.to_string(), "http://localhost:3000/token");
        assert_eq!(
            endpoints.registration.unwrap().to_string(),
            "http://localhost:3000/register"
        );
    }

    #[test]
    fn canonical_uris() {
        assert_eq!(
            canonical_resource_uri("HTTPS://MCP.Example.COM:443/mcp/").unwrap(),
            "https://mcp.example.com/mcp"
        );
        assert_eq!(
            canonical_resource_uri("https://mcp.example.com:8443").unwrap(),
            "https://mcp.example.com:8443"
        );
        assert_eq!(
            canonical_resource_uri("https://mcp.example.com/mcp#frag"),
            Err(UrlError::Fragment)
        );
    }
}
