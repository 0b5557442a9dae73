//! PKCE (RFC 7636) and the `state` value, both minted from caller-given entropy.
//!
//! A verifier is the unpadded base64url rendering of 32 to 96 random bytes (43 to 128
//! characters, the range RFC 7636 §4.1 allows); the `S256` challenge is the unpadded base64url
//! SHA-256 of the verifier's ASCII. The MCP spec requires `S256` whenever the client can compute
//! it, and this crate always can, so `plain` is not offered.
//!
//! ```
//! use mcp_proto::auth::pkce::PkceVerifier;
//!
//! // RFC 7636 Appendix B.
//! let entropy = [
//!     116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
//!     77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
//! ];
//! let verifier = PkceVerifier::from_entropy(&entropy).unwrap();
//! assert_eq!(verifier.as_str(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
//! assert_eq!(verifier.s256_challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The entropy a verifier is minted from by default: 32 bytes (256 bits, a 43-character
/// verifier).
pub const VERIFIER_ENTROPY_BYTES: usize = 32;
/// The least entropy [`PkceVerifier::from_entropy`] accepts (gives 43 characters).
pub const MIN_VERIFIER_ENTROPY: usize = 32;
/// The most entropy [`PkceVerifier::from_entropy`] accepts (gives 128 characters).
pub const MAX_VERIFIER_ENTROPY: usize = 96;
/// The entropy a state is minted from by default: 32 bytes (43 characters).
pub const STATE_ENTROPY_BYTES: usize = 32;
/// The least entropy [`AuthState::from_entropy`] accepts: 128 bits.
pub const MIN_STATE_ENTROPY: usize = 16;
/// The most entropy [`AuthState::from_entropy`] accepts.
pub const MAX_STATE_ENTROPY: usize = 64;

/// The code challenge method this crate uses.
pub const S256: &str = "S256";

/// Why a verifier or state could not be made or accepted.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    /// Entropy outside the accepted range.
    #[error("{len} bytes of entropy; between {min} and {max} required")]
    Entropy {
        /// The length given.
        len: usize,
        /// The minimum.
        min: usize,
        /// The maximum.
        max: usize,
    },
    /// A verifier string that is not 43–128 unreserved characters (RFC 7636 §4.1).
    #[error("invalid code verifier")]
    InvalidVerifier,
}

fn check_entropy(entropy: &[u8], min: usize, max: usize) -> Result<(), PkceError> {
    if (min..=max).contains(&entropy.len()) {
        Ok(())
    } else {
        Err(PkceError::Entropy {
            len: entropy.len(),
            min,
            max,
        })
    }
}

/// A PKCE code verifier. `Debug` hides it (it is a secret until the code is redeemed).
#[derive(Clone, PartialEq, Eq)]
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// Mints a verifier from 32 to 96 bytes of cryptographic randomness.
    ///
    /// # Errors
    /// [`PkceError::Entropy`] outside that range.
    pub fn from_entropy(entropy: &[u8]) -> Result<Self, PkceError> {
        check_entropy(entropy, MIN_VERIFIER_ENTROPY, MAX_VERIFIER_ENTROPY)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(entropy)))
    }

    /// Mints a verifier from exactly [`VERIFIER_ENTROPY_BYTES`] random bytes (cannot fail).
    pub fn generate(entropy: &[u8; VERIFIER_ENTROPY_BYTES]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(entropy))
    }

    /// Accepts an existing verifier: 43 to 128 characters from `A–Z a–z 0–9 - . _ ~`.
    ///
    /// # Errors
    /// [`PkceError::InvalidVerifier`] otherwise.
    pub fn parse(verifier: &str) -> Result<Self, PkceError> {
        let valid = (43..=128).contains(&verifier.len())
            && verifier.bytes().all(|byte| {
                byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
            });
        if valid {
            Ok(Self(verifier.to_owned()))
        } else {
            Err(PkceError::InvalidVerifier)
        }
    }

    /// The verifier, for the token request's `code_verifier`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `S256` code challenge: `BASE64URL(SHA256(ASCII(verifier)))` without padding.
    pub fn s256_challenge(&self) -> String {
        s256_challenge(&self.0)
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PkceVerifier(<{} chars>)", self.0.len())
    }
}

/// The `S256` code challenge of any verifier string (also what an authorization server computes
/// to check one).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(crate::sha256::digest(verifier.as_bytes()))
}

/// An OAuth `state` value: unguessable, bound to one authorization request (CSRF protection).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthState(String);

impl AuthState {
    /// Mints a state from 16 to 64 bytes of cryptographic randomness (unpadded base64url).
    ///
    /// # Errors
    /// [`PkceError::Entropy`] outside that range.
    pub fn from_entropy(entropy: &[u8]) -> Result<Self, PkceError> {
        check_entropy(entropy, MIN_STATE_ENTROPY, MAX_STATE_ENTROPY)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(entropy)))
    }

    /// Mints a state from exactly [`STATE_ENTROPY_BYTES`] random bytes (cannot fail).
    pub fn generate(entropy: &[u8; STATE_ENTROPY_BYTES]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(entropy))
    }

    /// The value, for the authorization request.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares a returned `state` with this one, in time independent of where they differ.
    pub fn matches(&self, returned: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), returned.as_bytes())
    }
}

impl fmt::Debug for AuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthState(<{} chars>)", self.0.len())
    }
}

/// Equality whose running time depends only on the lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7636_ENTROPY: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = PkceVerifier::from_entropy(&RFC7636_ENTROPY).unwrap();
        assert_eq!(
            verifier.as_str(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        assert_eq!(
            verifier.s256_challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(PkceVerifier::parse(verifier.as_str()), Ok(verifier.clone()));
        assert_eq!(PkceVerifier::generate(&RFC7636_ENTROPY), verifier);
        assert!(!format!("{verifier:?}").contains(verifier.as_str()));
    }

    #[test]
    fn verifier_lengths_follow_entropy() {
        assert_eq!(
            PkceVerifier::from_entropy(&[1; 32]).unwrap().as_str().len(),
            43
        );
        assert_eq!(
            PkceVerifier::from_entropy(&[1; 96]).unwrap().as_str().len(),
            128
        );
        assert!(matches!(
            PkceVerifier::from_entropy(&[1; 31]),
            Err(PkceError::Entropy { len: 31, .. })
        ));
        assert!(PkceVerifier::from_entropy(&[1; 97]).is_err());
        assert_eq!(
            PkceVerifier::parse("short"),
            Err(PkceError::InvalidVerifier)
        );
        assert_eq!(
            PkceVerifier::parse(&"a".repeat(42)),
            Err(PkceError::InvalidVerifier)
        );
        assert_eq!(
            PkceVerifier::parse(&format!("{}+", "a".repeat(42))),
            Err(PkceError::InvalidVerifier)
        );
        assert!(PkceVerifier::parse(&"a~.-_".repeat(10)).is_ok());
    }

    #[test]
    fn state_from_entropy() {
        let state = AuthState::from_entropy(&[0xfb; 16]).unwrap();
        assert_eq!(state.as_str(), "-_v7-_v7-_v7-_v7-_v7-w");
        assert!(state.matches("-_v7-_v7-_v7-_v7-_v7-w"));
        assert!(!state.matches("-_v7-_v7-_v7-_v7-_v7-x"));
        assert!(!state.matches(""));
        assert!(AuthState::from_entropy(&[0; 15]).is_err());
        assert_eq!(AuthState::generate(&[0xfb; 32]).as_str().len(), 43);
        assert!(AuthState::from_entropy(&[0; 65]).is_err());
        assert!(!format!("{state:?}").contains(state.as_str()));
    }
}
