//! The legacy (2025-era) `Mcp-Session-Id` value.
//!
//! A session id is 1 to [`MAX_SESSION_ID_LEN`] visible ASCII characters
//! (0x21–0x7E), as the spec requires. Minting never reads an RNG: the adapter
//! passes at least [`MIN_ENTROPY_BYTES`] bytes from a cryptographic source and
//! [`SessionId::from_entropy`] renders them as unpadded base64url (16 bytes
//! give 22 characters), which is shorter than hex and only uses `A–Z a–z 0–9 - _`.
//!
//! A session id works like a bearer credential for the session, so `Debug`
//! shows only a short prefix and the length; `Display` and
//! [`as_str`](SessionId::as_str) give the full value for the response header.
//!
//! ```
//! use mcp_proto::http::session_id::SessionId;
//!
//! let minted = SessionId::from_entropy(&[7_u8; 16]).unwrap();
//! assert_eq!(minted.as_str(), "BwcHBwcHBwcHBwcHBwcHBw");
//! let received = SessionId::parse(minted.as_str().as_bytes()).unwrap();
//! assert_eq!(received, minted);
//! assert!(!format!("{minted:?}").contains(minted.as_str()));
//! ```

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::media_type::{is_ows, trim_ows};

/// The longest session id accepted or minted, in bytes.
///
/// 256 leaves room for ids minted by other servers (UUIDs, JWT-like tokens)
/// while bounding what a client can make us store and compare.
pub const MAX_SESSION_ID_LEN: usize = 256;

/// The least entropy [`SessionId::from_entropy`] accepts: 128 bits.
pub const MIN_ENTROPY_BYTES: usize = 16;

/// The most entropy [`SessionId::from_entropy`] accepts (its base64url
/// rendering is exactly [`MAX_SESSION_ID_LEN`] characters).
pub const MAX_ENTROPY_BYTES: usize = MAX_SESSION_ID_LEN / 4 * 3;

/// Characters of the id that `Debug` reveals (only for ids over twice as long).
const DEBUG_PREFIX_LEN: usize = 4;

/// Why a session id was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionIdError {
    /// The value is empty (or only whitespace).
    #[error("empty session id")]
    Empty,
    /// The value is longer than [`MAX_SESSION_ID_LEN`].
    #[error("session id is {len} bytes, more than {max}")]
    TooLong {
        /// The value's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A byte outside visible ASCII (0x21–0x7E).
    #[error("invalid byte 0x{byte:02x} at byte {position} of session id")]
    InvalidByte {
        /// The offending byte.
        byte: u8,
        /// Its offset in the value as given.
        position: usize,
    },
    /// Fewer than [`MIN_ENTROPY_BYTES`] bytes of entropy.
    #[error("{len} bytes of entropy, at least {min} required")]
    NotEnoughEntropy {
        /// How many bytes were given.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// More than [`MAX_ENTROPY_BYTES`] bytes of entropy.
    #[error("{len} bytes of entropy, at most {max} allowed")]
    TooMuchEntropy {
        /// How many bytes were given.
        len: usize,
        /// The maximum.
        max: usize,
    },
}

/// A validated `Mcp-Session-Id` value.
///
/// Cloning is cheap (a shared string): servers key several tables and every routed message
/// by it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Arc<str>);

impl SessionId {
    /// Mints an id from caller-supplied cryptographic randomness.
    ///
    /// # Errors
    /// [`SessionIdError::NotEnoughEntropy`] below [`MIN_ENTROPY_BYTES`],
    /// [`SessionIdError::TooMuchEntropy`] above [`MAX_ENTROPY_BYTES`].
    pub fn from_entropy(entropy: &[u8]) -> Result<Self, SessionIdError> {
        if entropy.len() < MIN_ENTROPY_BYTES {
            return Err(SessionIdError::NotEnoughEntropy {
                len: entropy.len(),
                min: MIN_ENTROPY_BYTES,
            });
        }
        if entropy.len() > MAX_ENTROPY_BYTES {
            return Err(SessionIdError::TooMuchEntropy {
                len: entropy.len(),
                max: MAX_ENTROPY_BYTES,
            });
        }
        Ok(Self(URL_SAFE_NO_PAD.encode(entropy).into()))
    }

    /// Validates a received `Mcp-Session-Id` value.
    ///
    /// Surrounding spaces and tabs are ignored (they are not part of an HTTP
    /// field value); anything else outside 0x21–0x7E is refused.
    ///
    /// # Errors
    /// See [`SessionIdError`].
    pub fn parse(header: &[u8]) -> Result<Self, SessionIdError> {
        let leading = header.iter().take_while(|&&byte| is_ows(byte)).count();
        let value = trim_ows(header);
        if value.is_empty() {
            return Err(SessionIdError::Empty);
        }
        if value.len() > MAX_SESSION_ID_LEN {
            return Err(SessionIdError::TooLong {
                len: value.len(),
                max: MAX_SESSION_ID_LEN,
            });
        }
        if let Some((offset, &byte)) = value
            .iter()
            .enumerate()
            .find(|&(_, &byte)| !matches!(byte, 0x21..=0x7E))
        {
            return Err(SessionIdError::InvalidByte {
                byte,
                position: leading + offset,
            });
        }
        // Visible ASCII is UTF-8, so this conversion always succeeds.
        let text = std::str::from_utf8(value).map_err(|err| SessionIdError::InvalidByte {
            byte: value.get(err.valid_up_to()).copied().unwrap_or_default(),
            position: leading + err.valid_up_to(),
        })?;
        Ok(Self(text.into()))
    }

    /// The id, for the `Mcp-Session-Id` response header or a session table.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0.to_string()
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A short id is shown not at all: a prefix would be most of it.
        let prefix = if self.0.len() > 2 * DEBUG_PREFIX_LEN {
            self.0.get(..DEBUG_PREFIX_LEN).unwrap_or_default()
        } else {
            ""
        };
        write!(f, "SessionId({prefix}…, {} chars)", self.0.len())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SessionId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Lets a `HashMap<SessionId, _>` be queried with a `&str`.
impl Borrow<str> for SessionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_received_values() {
        let max = "a".repeat(MAX_SESSION_ID_LEN);
        let over = "a".repeat(MAX_SESSION_ID_LEN + 1);
        let rows: &[(&[u8], Result<&str, SessionIdError>)] = &[
            (b"abc", Ok("abc")),
            (b"!~", Ok("!~")),
            (
                b"550e8400-e29b-41d4-a716-446655440000",
                Ok("550e8400-e29b-41d4-a716-446655440000"),
            ),
            (b" \tabc ", Ok("abc")),
            (max.as_bytes(), Ok(max.as_str())),
            (b"", Err(SessionIdError::Empty)),
            (b"  ", Err(SessionIdError::Empty)),
            (
                over.as_bytes(),
                Err(SessionIdError::TooLong { len: 257, max: 256 }),
            ),
            (
                b"a b",
                Err(SessionIdError::InvalidByte {
                    byte: b' ',
                    position: 1,
                }),
            ),
            (
                b" a\x7f",
                Err(SessionIdError::InvalidByte {
                    byte: 0x7f,
                    position: 2,
                }),
            ),
            (
                b"a\r\n",
                Err(SessionIdError::InvalidByte {
                    byte: b'\r',
                    position: 1,
                }),
            ),
            (
                b"\xc3\xa9",
                Err(SessionIdError::InvalidByte {
                    byte: 0xc3,
                    position: 0,
                }),
            ),
        ];
        for (input, expected) in rows {
            let got = SessionId::parse(input);
            assert_eq!(
                got.as_ref().map(SessionId::as_str).map_err(Clone::clone),
                expected.clone(),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn mints_from_entropy() {
        let rows: &[(usize, Result<usize, SessionIdError>)] = &[
            // (entropy bytes, expected id length)
            (0, Err(SessionIdError::NotEnoughEntropy { len: 0, min: 16 })),
            (
                15,
                Err(SessionIdError::NotEnoughEntropy { len: 15, min: 16 }),
            ),
            (16, Ok(22)),
            (32, Ok(43)),
            (MAX_ENTROPY_BYTES, Ok(MAX_SESSION_ID_LEN)),
            (
                MAX_ENTROPY_BYTES + 1,
                Err(SessionIdError::TooMuchEntropy { len: 193, max: 192 }),
            ),
        ];
        for &(len, ref expected) in rows {
            let entropy: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let minted = SessionId::from_entropy(&entropy);
            assert_eq!(
                minted
                    .as_ref()
                    .map(|id| id.as_str().len())
                    .map_err(Clone::clone),
                expected.clone(),
                "{len}"
            );
            if let Ok(id) = minted {
                assert_eq!(SessionId::parse(id.as_str().as_bytes()).as_ref(), Ok(&id));
            }
        }
    }

    #[test]
    fn formats_without_leaking() {
        let rows: &[(&[u8], &str, &str)] = &[
            // (id, Debug, Display)
            (b"abcdefghi", "SessionId(abcd…, 9 chars)", "abcdefghi"),
            (b"abcdefgh", "SessionId(…, 8 chars)", "abcdefgh"),
            (b"ab", "SessionId(…, 2 chars)", "ab"),
        ];
        for &(input, debug, display) in rows {
            let id = SessionId::parse(input).unwrap();
            assert_eq!(format!("{id:?}"), debug);
            assert_eq!(id.to_string(), display);
            assert_eq!(id.as_ref(), display);
            let table: std::collections::HashSet<SessionId> = [id.clone()].into();
            assert!(table.contains(display));
        }
    }
}
