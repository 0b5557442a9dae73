//! Token endpoint responses (RFC 6749 §5, RFC 8693 §2.2) and the tokens the client keeps.
//!
//! [`read_token_response`] classifies what a token endpoint answered: a 2xx with a usable
//! JSON body, or a refusal with the OAuth error object when there is one. [`TokenSet`] is what
//! the client keeps per authorization server: the access token, its expiry computed from
//! `expires_in` against the `now` of the response, the refresh token and the granted scopes.

use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize};

use super::metadata::{MetadataError, parse_json};
use super::scope::ScopeSet;
use super::secret::Secret;

/// The default largest token response accepted, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 64 * 1024;
/// The longest token lifetime honoured (longer `expires_in` values are cut to this): ten years.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A successful token response. Unknown fields are ignored; `Debug` hides the tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token (for RFC 8693 exchanges, the issued token).
    pub access_token: Secret,
    /// `Bearer`, `DPoP`, or `N_A` for exchanged tokens that are not access tokens.
    pub token_type: String,
    /// Lifetime in seconds (a number, or a string of digits as some servers send).
    #[serde(
        default,
        deserialize_with = "lenient_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in: Option<u64>,
    /// A refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// The granted scopes, when they differ from those requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// RFC 8693: the type of `access_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
}

fn lenient_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Seconds>::deserialize(deserializer)? {
        Some(Seconds::Number(seconds)) => Some(seconds),
        // Truncation is the intent: a fractional or huge lifetime rounds down and saturates.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(Seconds::Float(seconds)) if seconds.is_finite() && seconds >= 0.0 => {
            Some(seconds as u64)
        }
        Some(Seconds::Text(text)) => text.trim().parse().ok(),
        Some(Seconds::Float(_)) | None => None,
    })
}

/// An OAuth error response (RFC 6749 §5.2), from a token or registration endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OAuthErrorResponse {
    /// The error code: `invalid_grant`, `invalid_client`, `access_denied`, …
    pub error: String,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// A page about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
}

impl fmt::Display for OAuthErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error)?;
        if let Some(description) = &self.error_description {
            write!(f, " ({description})")?;
        }
        Ok(())
    }
}

/// Why a token endpoint's answer gives no token.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenResponseError {
    /// A non-2xx status, with the OAuth error object when the body held one.
    #[error("token endpoint answered {status}{}", error.as_ref().map(|error| format!(": {error}")).unwrap_or_default())]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error object.
        error: Option<OAuthErrorResponse>,
    },
    /// A 2xx whose body is not a token response.
    #[error("token endpoint answered with an invalid body")]
    Invalid(#[source] MetadataError),
    /// A token type this client cannot use: not `Bearer`, nor `DPoP` in answer to a request
    /// that carried a DPoP proof.
    #[error("token type {0:?} is not Bearer")]
    NotBearer(String),
}

/// Classifies a token endpoint's answer (`body` of at most `max_bytes`).
///
/// # Errors
/// See [`TokenResponseError`].
pub fn read_token_response(
    status: u16,
    body: &[u8],
    max_bytes: usize,
) -> Result<TokenResponse, TokenResponseError> {
    if !(200..300).contains(&status) {
        return Err(TokenResponseError::Refused {
            status,
            error: parse_json(body, max_bytes).ok(),
        });
    }
    parse_json(body, max_bytes).map_err(TokenResponseError::Invalid)
}

impl TokenResponse {
    /// Refuses a token that is not a bearer token (compared without case, RFC 6749 §7.1).
    ///
    /// # Errors
    /// [`TokenResponseError::NotBearer`].
    pub fn require_bearer(&self) -> Result<(), TokenResponseError> {
        if self.token_type.eq_ignore_ascii_case("bearer") {
            Ok(())
        } else {
            Err(TokenResponseError::NotBearer(self.token_type.clone()))
        }
    }

    /// Whether the token is DPoP-bound (`token_type` `DPoP`, compared without case, RFC 9449
    /// §5).
    pub fn is_dpop(&self) -> bool {
        self.token_type
            .eq_ignore_ascii_case(super::dpop::TOKEN_TYPE_DPOP)
    }
}

/// The tokens held for one authorization server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The access token.
    pub access_token: Secret,
    /// When it expires, if the server said.
    pub expires_at: Option<Instant>,
    /// The refresh token, if any.
    pub refresh_token: Option<Secret>,
    /// The scopes granted (those requested when the response did not say, RFC 6749 §5.1).
    pub scopes: ScopeSet,
    /// For a DPoP-bound token (RFC 9449), the RFC 7638 thumbprint of the key it is bound to:
    /// it is presented as `Authorization: DPoP` with a proof signed by that key. `None` for a
    /// bearer token.
    pub dpop_jkt: Option<String>,
}

impl TokenSet {
    /// The tokens of a response received at `now` for a request of `requested` scopes. A
    /// refresh response without a new refresh token keeps `previous_refresh` (RFC 6749 §6).
    /// The result is a bearer token set; the caller binds a DPoP token (`dpop_jkt`).
    pub fn from_response(
        now: Instant,
        response: TokenResponse,
        requested: &ScopeSet,
        previous_refresh: Option<Secret>,
    ) -> Self {
        let expires_at = response
            .expires_in
            .map(|seconds| Duration::from_secs(seconds).min(MAX_TOKEN_LIFETIME))
            .and_then(|lifetime| now.checked_add(lifetime));
        let scopes = response
            .scope
            .as_deref()
            .and_then(|scope| ScopeSet::parse(scope).ok())
            .unwrap_or_else(|| requested.clone());
        Self {
            access_token: response.access_token,
            expires_at,
            refresh_token: response.refresh_token.or(previous_refresh),
            scopes,
            dpop_jkt: None,
        }
    }

    /// Whether the access token may still be sent at `now`, leaving `margin` before expiry.
    pub fn is_fresh(&self, now: Instant, margin: Duration) -> bool {
        match self.expires_at {
            Some(expires_at) => now
                .checked_add(margin)
                .is_some_and(|later| later < expires_at),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successful_responses() {
        let response = read_token_response(
            200,
            br#"{"access_token":"test-token-1","token_type":"Bearer","expires_in":3600,"scope":"mcp:basic","x":1}"#,
            DEFAULT_MAX_TOKEN_BYTES,
        )
        .unwrap();
        assert_eq!(response.access_token.expose(), "test-token-1");
        assert_eq!(response.expires_in, Some(3600));
        assert_eq!(response.require_bearer(), Ok(()));
        assert!(!format!("{response:?}").contains("test-token-1"));
        let text = read_token_response(
            200,
            br#"{"access_token":"t","token_type":"bearer","expires_in":"60"}"#,
            1024,
        )
        .unwrap();
        assert_eq!(text.expires_in, Some(60));
        assert_eq!(text.require_bearer(), Ok(()));
        assert!(!text.is_dpop());
        let dpop = read_token_response(
            200,
            br#"{"access_token":"t","token_type":"dpop","expires_in":60}"#,
            1024,
        )
        .unwrap();
        assert!(dpop.is_dpop());
        assert!(dpop.require_bearer().is_err());
        let float = read_token_response(
            200,
            br#"{"access_token":"t","token_type":"Bearer","expires_in":59.9}"#,
            1024,
        )
        .unwrap();
        assert_eq!(float.expires_in, Some(59));
        let junk = read_token_response(
            200,
            br#"{"access_token":"t","token_type":"Bearer","expires_in":"soon"}"#,
            1024,
        )
        .unwrap();
        assert_eq!(junk.expires_in, None);
        let jag = read_token_response(
            200,
            br#"{"access_token":"eyJ.x.y","issued_token_type":"urn:ietf:params:oauth:token-type:id-jag","token_type":"N_A"}"#,
            1024,
        )
        .unwrap();
        assert_eq!(
            jag.require_bearer(),
            Err(TokenResponseError::NotBearer("N_A".to_owned()))
        );
    }

    #[test]
    fn refusals_keep_the_oauth_error() {
        assert_eq!(
            read_token_response(
                400,
                br#"{"error":"invalid_grant","error_description":"expired"}"#,
                1024
            ),
            Err(TokenResponseError::Refused {
                status: 400,
                error: Some(OAuthErrorResponse {
                    error: "invalid_grant".to_owned(),
                    error_description: Some("expired".to_owned()),
                    error_uri: None,
                }),
            })
        );
        let refused = read_token_response(502, b"<html>bad gateway</html>", 1024).unwrap_err();
        assert_eq!(
            refused,
            TokenResponseError::Refused {
                status: 502,
                error: None
            }
        );
        assert_eq!(refused.to_string(), "token endpoint answered 502");
        assert!(matches!(
            read_token_response(200, b"{}", 1024),
            Err(TokenResponseError::Invalid(MetadataError::Json(_)))
        ));
        assert!(matches!(
            read_token_response(200, &[b' '; 2048], 1024),
            Err(TokenResponseError::Invalid(MetadataError::TooLarge { .. }))
        ));
    }
}
