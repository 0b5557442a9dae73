//! Checking that a request body is declared as JSON (`Content-Type`).
//!
//! The essence must be `application/json` (any case). Parameters are allowed
//! and syntax-checked; a `charset` other than `utf-8` is refused because JSON
//! exchanged between systems is UTF-8 (RFC 8259 §8.1) and a body we would
//! have to transcode is not one we accept. Lookalikes such as
//! `application/jsonx` or `application/json-seq` are refused: the comparison
//! is on the parsed essence, never on a prefix.
//!
//! ```
//! use mcp_proto::http::content_type::{check_json_content_type, ContentTypeError};
//!
//! assert!(check_json_content_type(b"Application/JSON; charset=UTF-8").is_ok());
//! assert!(matches!(
//!     check_json_content_type(b"application/jsonx"),
//!     Err(ContentTypeError::NotJson { .. })
//! ));
//! ```

use super::media_type::{MediaType, MediaTypeError, excerpt};

/// The longest `Content-Type` value examined (8 KiB).
pub const MAX_CONTENT_TYPE_BYTES: usize = 8 * 1024;

/// Why a `Content-Type` does not declare a UTF-8 JSON body.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentTypeError {
    /// No `Content-Type` line was sent.
    #[error("missing content-type")]
    Missing,
    /// More than one `Content-Type` line was sent (it is a singleton field).
    #[error("content-type sent {count} times")]
    Repeated {
        /// How many lines were sent.
        count: usize,
    },
    /// The value is longer than [`MAX_CONTENT_TYPE_BYTES`].
    #[error("content-type is {len} bytes, more than {max}")]
    TooLong {
        /// The value's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The value is not a media type.
    #[error("malformed content-type: {0}")]
    Malformed(#[from] MediaTypeError),
    /// A well-formed media type other than `application/json`.
    #[error("content-type {essence:?} is not application/json")]
    NotJson {
        /// The `type/subtype` that was sent (shortened).
        essence: String,
    },
    /// `application/json` with a charset other than UTF-8.
    #[error("unsupported charset {charset:?}, json must be utf-8")]
    UnsupportedCharset {
        /// The charset that was sent (shortened).
        charset: String,
    },
}

/// Checks one `Content-Type` value for a UTF-8 JSON body.
///
/// # Errors
/// Every [`ContentTypeError`] except [`Missing`](ContentTypeError::Missing)
/// and [`Repeated`](ContentTypeError::Repeated).
pub fn check_json_content_type(value: &[u8]) -> Result<(), ContentTypeError> {
    if value.len() > MAX_CONTENT_TYPE_BYTES {
        return Err(ContentTypeError::TooLong {
            len: value.len(),
            max: MAX_CONTENT_TYPE_BYTES,
        });
    }
    let media_type = MediaType::parse(value)?;
    if !media_type.essence_eq("application", "json") {
        return Err(ContentTypeError::NotJson {
            essence: excerpt(
                format!("{}/{}", media_type.main_type(), media_type.subtype()).as_bytes(),
            ),
        });
    }
    if let Some(charset) = media_type.non_utf8_charset() {
        return Err(ContentTypeError::UnsupportedCharset {
            charset: excerpt(charset.value_bytes()),
        });
    }
    Ok(())
}

/// Checks all `Content-Type` lines of a request: exactly one must be sent.
///
/// # Errors
/// [`ContentTypeError::Missing`] for no line, [`ContentTypeError::Repeated`]
/// for several, otherwise as [`check_json_content_type`].
pub fn check_json_content_type_lines<'a, I>(lines: I) -> Result<(), ContentTypeError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut lines = lines.into_iter();
    let first = lines.next().ok_or(ContentTypeError::Missing)?;
    // Counting stops early: the exact number of a flood of lines is not worth the work.
    let extra = lines.take(15).count();
    if extra > 0 {
        return Err(ContentTypeError::Repeated { count: extra + 1 });
    }
    check_json_content_type(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_values() {
        let rows: &[(&[u8], Result<(), ContentTypeError>)] = &[
            (b"application/json", Ok(())),
            (b"Application/Json; charset=UTF-8", Ok(())),
            (b"application/json;charset=\"utf-8\"", Ok(())),
            (b"application/json; profile=\"x;y\"; charset=utf-8", Ok(())),
            (b" application/json ", Ok(())),
            (b"application/json;;", Ok(())),
            (
                b"application/jsonx",
                Err(ContentTypeError::NotJson {
                    essence: "application/jsonx".into(),
                }),
            ),
            (
                b"application/json-seq",
                Err(ContentTypeError::NotJson {
                    essence: "application/json-seq".into(),
                }),
            ),
            (
                b"text/plain",
                Err(ContentTypeError::NotJson {
                    essence: "text/plain".into(),
                }),
            ),
            (
                b"*/*",
                Err(ContentTypeError::NotJson {
                    essence: "*/*".into(),
                }),
            ),
            (
                b"application/json; charset=utf-16",
                Err(ContentTypeError::UnsupportedCharset {
                    charset: "utf-16".into(),
                }),
            ),
            (
                b"application/json; charset=\"latin1\"",
                Err(ContentTypeError::UnsupportedCharset {
                    charset: "latin1".into(),
                }),
            ),
            (b"", Err(ContentTypeError::Malformed(MediaTypeError::Empty))),
            (
                b"garbage",
                Err(ContentTypeError::Malformed(MediaTypeError::MissingSlash {
                    position: 7,
                })),
            ),
            (
                b"application/json, text/plain",
                Err(ContentTypeError::Malformed(
                    MediaTypeError::UnexpectedByte {
                        byte: b',',
                        position: 16,
                    },
                )),
            ),
            (
                b"application/json; charset",
                Err(ContentTypeError::Malformed(
                    MediaTypeError::MissingParameterValue { position: 25 },
                )),
            ),
            (
                b"application/json\r\n",
                Err(ContentTypeError::Malformed(
                    MediaTypeError::UnexpectedByte {
                        byte: b'\r',
                        position: 16,
                    },
                )),
            ),
        ];
        for (input, expected) in rows {
            assert_eq!(
                &check_json_content_type(input),
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn checks_lines() {
        let long = [b'a'; MAX_CONTENT_TYPE_BYTES + 1];
        type Row<'a> = (&'a [&'a [u8]], Result<(), ContentTypeError>);
        let rows: &[Row<'_>] = &[
            (&[], Err(ContentTypeError::Missing)),
            (&[b"application/json"], Ok(())),
            (
                &[b"application/json", b"application/json"],
                Err(ContentTypeError::Repeated { count: 2 }),
            ),
            (
                &[&long],
                Err(ContentTypeError::TooLong {
                    len: MAX_CONTENT_TYPE_BYTES + 1,
                    max: MAX_CONTENT_TYPE_BYTES,
                }),
            ),
        ];
        for &(lines, ref expected) in rows {
            assert_eq!(
                &check_json_content_type_lines(lines.iter().copied()),
                expected
            );
        }
    }
}
