//! JWT client assertions for `private_key_jwt` (RFC 7523 §2.2, RFC 7521 §4.2): this module
//! assembles the header and claims and the compact serialization; the signature comes from the
//! caller's [`AssertionSigner`], so `mcp-proto` carries no cryptography for it. An adapter
//! typically implements the signer over a P-256 key (`ES256`: the 64-byte `r || s` signature
//! of JWS, RFC 7518 §3.4) with a crypto library of its choice.
//!
//! Claims: `iss` and `sub` are the `client_id`, `aud` is the authorization server's issuer
//! identifier (what draft-ietf-oauth-rfc7523bis recommends, and what the conformance
//! harness's `auth/client-credentials-jwt` verifies), `iat`/`exp` come from a [`WallClock`]
//! anchor (the crate reads no clock), and `jti` from caller entropy.
//!
//! ```
//! use mcp_proto::auth::jwt::{AssertionSigner, ClientAssertion, SignerError};
//!
//! struct Fixed;
//! impl AssertionSigner for Fixed {
//!     fn algorithm(&self) -> &str { "ES256" }
//!     fn sign(&self, _input: &[u8]) -> Result<Vec<u8>, SignerError> { Ok(vec![0; 64]) }
//! }
//! let jwt = ClientAssertion {
//!     client_id: "client",
//!     audience: "https://as.example.com",
//!     issued_at: 1_700_000_000,
//!     lifetime_secs: 300,
//!     jti: "abc",
//! }
//! .sign(&Fixed)
//! .unwrap();
//! assert_eq!(jwt.split('.').count(), 3);
//! ```

use std::fmt;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

/// `client_assertion_type` for a JWT client assertion.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The default lifetime of a client assertion, in seconds.
pub const DEFAULT_ASSERTION_LIFETIME_SECS: u64 = 300;

/// Why the caller's signer failed; the message is the signer's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing the client assertion failed: {message}")]
pub struct SignerError {
    /// What went wrong.
    pub message: String,
}

impl SignerError {
    /// An error with this description.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// An error describing `cause` and its sources.
    pub fn from_error(cause: &dyn std::error::Error) -> Self {
        let mut message = cause.to_string();
        let mut source = cause.source();
        while let Some(inner) = source {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            source = inner.source();
        }
        Self { message }
    }
}

/// Signs JWS signing inputs with the client's private key.
pub trait AssertionSigner: Send {
    /// The JWS `alg`, e.g. `ES256`.
    fn algorithm(&self) -> &str;

    /// The JWS `kid`, when the authorization server knows the key by one.
    fn key_id(&self) -> Option<&str> {
        None
    }

    /// The signature of `signing_input` (`BASE64URL(header) || '.' || BASE64URL(claims)`), in
    /// the JWS encoding of the algorithm (for `ES256`, 64 bytes `r || s`).
    ///
    /// # Errors
    /// Whatever prevented signing.
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignerError>;
}

impl fmt::Debug for dyn AssertionSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssertionSigner")
            .field("alg", &self.algorithm())
            .field("kid", &self.key_id())
            .finish()
    }
}

/// Maps the caller's monotonic `Instant`s to Unix time: the wall-clock reading (seconds since
/// the Unix epoch) that corresponds to one instant. The adapter reads both clocks once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    /// An instant.
    pub at: Instant,
    /// The Unix time at that instant.
    pub unix_seconds: u64,
}

impl WallClock {
    /// The Unix time at `now`.
    pub fn unix_at(&self, now: Instant) -> u64 {
        if now >= self.at {
            self.unix_seconds
                .saturating_add(now.duration_since(self.at).as_secs())
        } else {
            self.unix_seconds
                .saturating_sub(self.at.duration_since(now).as_secs())
        }
    }
}

/// The claims of a client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAssertion<'a> {
    /// `iss` and `sub`.
    pub client_id: &'a str,
    /// `aud`: the authorization server's issuer identifier.
    pub audience: &'a str,
    /// `iat`, Unix seconds.
    pub issued_at: u64,
    /// `exp - iat`.
    pub lifetime_secs: u64,
    /// `jti`: unique per assertion.
    pub jti: &'a str,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: &'a str,
}

impl ClientAssertion<'_> {
    /// The header and claims, each base64url-encoded, joined by `.` (the JWS signing input).
    pub fn signing_input(&self, signer: &dyn AssertionSigner) -> String {
        let header = Header {
            alg: signer.algorithm(),
            typ: "JWT",
            kid: signer.key_id(),
        };
        let claims = Claims {
            iss: self.client_id,
            sub: self.client_id,
            aud: self.audience,
            iat: self.issued_at,
            exp: self.issued_at.saturating_add(self.lifetime_secs),
            jti: self.jti,
        };
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(to_json(&header)),
            URL_SAFE_NO_PAD.encode(to_json(&claims))
        )
    }

    /// The compact JWT: signing input, `.`, base64url signature.
    ///
    /// # Errors
    /// The signer's failure, or an empty signature.
    pub fn sign(&self, signer: &dyn AssertionSigner) -> Result<String, SignerError> {
        let input = self.signing_input(signer);
        let signature = signer.sign(input.as_bytes())?;
        if signature.is_empty() {
            return Err(SignerError::new("the signer returned an empty signature"));
        }
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// JSON of plain string/number structs cannot fail; an empty object stands in if it ever did.
fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Recorder {
        kid: Option<&'static str>,
        fail: bool,
    }

    impl AssertionSigner for Recorder {
        fn algorithm(&self) -> &str {
            "ES256"
        }
        fn key_id(&self) -> Option<&str> {
            self.kid
        }
        fn sign(&self, input: &[u8]) -> Result<Vec<u8>, SignerError> {
            if self.fail {
                return Err(SignerError::new("no key"));
            }
            // A stand-in "signature" derived from the input, so tests can check it is used.
            Ok(input.iter().rev().take(64).copied().collect())
        }
    }

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn assembles_header_claims_and_signature() {
        let signer = Recorder {
            kid: Some("key-1"),
            fail: false,
        };
        let assertion = ClientAssertion {
            client_id: "conformance-test-client",
            audience: "http://localhost:4000",
            issued_at: 1_700_000_000,
            lifetime_secs: 300,
            jti: "jti-1",
        };
        let jwt = assertion.sign(&signer).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode(parts[0]),
            serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "key-1"})
        );
        assert_eq!(
            decode(parts[1]),
            serde_json::json!({
                "iss": "conformance-test-client",
                "sub": "conformance-test-client",
                "aud": "http://localhost:4000",
                "iat": 1_700_000_000_u64,
                "exp": 1_700_000_300_u64,
                "jti": "jti-1",
            })
        );
        let input = format!("{}.{}", parts[0], parts[1]);
        let expected: Vec<u8> = input.bytes().rev().take(64).collect();
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap(), expected);
        assert_eq!(assertion.signing_input(&signer), input);
    }

    #[test]
    fn signer_failures_are_kept() {
        let signer = Recorder {
            kid: None,
            fail: true,
        };
        let assertion = ClientAssertion {
            client_id: "c",
            audience: "a",
            issued_at: 0,
            lifetime_secs: 1,
            jti: "j",
        };
        assert_eq!(assertion.sign(&signer), Err(SignerError::new("no key")));
        let io = std::io::Error::other("hsm offline");
        assert_eq!(SignerError::from_error(&io).message, "hsm offline");
    }
}
