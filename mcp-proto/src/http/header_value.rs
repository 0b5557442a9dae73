//! The MCP 2026-07-28 value codec for `Mcp-Name` and `Mcp-Param-*` headers.
//!
//! A value travels as-is only when it is "plain": every character is visible
//! ASCII (0x21–0x7E), space or tab, it neither starts nor ends with
//! whitespace, and it does not look like the sentinel. Anything else travels
//! as `=?base64?{standard base64 with padding of the UTF-8 bytes}?=`.
//!
//! Sentinel detection differs on purpose between the two directions:
//! - Decoding treats a value as encoded only when it starts with exactly
//!   `=?base64?` and ends with `?=` (lowercase, non-overlapping), as the
//!   spec defines the markers.
//! - Encoding also base64-encodes every value that merely starts with
//!   `=?base64?` in any letter case. Encoding a plain value is always
//!   harmless (it decodes back), and it keeps lenient peers that match the
//!   markers case-insensitively or without the suffix from misreading it.
//!
//! Header values are case-sensitive and compared exactly after decoding.
//!
//! ```
//! use mcp_proto::http::header_value::{decode_header_value, encode_header_value, header_matches};
//!
//! assert_eq!(encode_header_value("get_weather"), "get_weather");
//! let encoded = encode_header_value("héllo");
//! assert_eq!(encoded, "=?base64?aMOpbGxv?=");
//! assert_eq!(decode_header_value(encoded.as_bytes()).unwrap(), "héllo");
//! assert_eq!(header_matches(b"=?base64?aMOpbGxv?=", "héllo"), Ok(true));
//! ```

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Number, Value};

use super::media_type::{is_ows, is_tchar, trim_ows};

const SENTINEL_PREFIX: &str = "=?base64?";
const SENTINEL_SUFFIX: &str = "?=";

/// The largest integer magnitude an `Mcp-Param-*` value may carry, 2^53 − 1.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Why a received header value cannot be decoded.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderValueError {
    /// A plain value holds a control character or non-ASCII byte.
    #[error("invalid byte 0x{byte:02x} at byte {position} of header value")]
    InvalidByte {
        /// The offending byte.
        byte: u8,
        /// Its offset in the value as given.
        position: usize,
    },
    /// The text between the sentinel markers is not canonical padded base64.
    #[error("invalid base64 in header value: {detail}")]
    InvalidBase64 {
        /// What the decoder found.
        detail: String,
    },
    /// The base64 payload does not decode to UTF-8.
    #[error("base64 header value is not utf-8 after byte {valid_up_to}")]
    InvalidUtf8 {
        /// The length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
}

/// Why a JSON body value cannot be mirrored into an `Mcp-Param-*` header.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamValueError {
    /// A number with a fractional part (`x-mcp-header` allows only integers).
    #[error("number {value} is not an integer")]
    NotAnInteger {
        /// The number as JSON text.
        value: String,
    },
    /// An integer beyond ±(2^53 − 1).
    #[error("integer {value} is outside ±(2^53 - 1)")]
    IntegerOutOfRange {
        /// The number as JSON text.
        value: String,
    },
    /// An array or object.
    #[error("{kind} values cannot be sent in a header")]
    UnsupportedType {
        /// `"array"` or `"object"`.
        kind: &'static str,
    },
    /// The received header value does not decode.
    #[error(transparent)]
    Header(#[from] HeaderValueError),
}

/// Why a name is not valid in an `x-mcp-header` annotation.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamHeaderNameError {
    /// The name is empty.
    #[error("empty x-mcp-header name")]
    Empty,
    /// A character that is not an RFC 9110 `tchar` (this covers CR and LF).
    #[error("invalid character {ch:?} at byte {position} of x-mcp-header name")]
    InvalidCharacter {
        /// The offending character.
        ch: char,
        /// Its byte offset in the name.
        position: usize,
    },
}

const fn is_plain_byte(byte: u8) -> bool {
    matches!(byte, 0x21..=0x7E) || is_ows(byte)
}

fn starts_like_sentinel(value: &[u8]) -> bool {
    value
        .get(..SENTINEL_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(SENTINEL_PREFIX.as_bytes()))
}

/// The base64 payload when `value` is exactly `=?base64?…?=`.
fn sentinel_payload(value: &[u8]) -> Option<&[u8]> {
    value
        .strip_prefix(SENTINEL_PREFIX.as_bytes())?
        .strip_suffix(SENTINEL_SUFFIX.as_bytes())
}

/// Whether `value` may be sent without base64 encoding.
#[must_use]
pub fn is_plain_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.iter().all(|&byte| is_plain_byte(byte))
        && !bytes.first().is_some_and(|&byte| is_ows(byte))
        && !bytes.last().is_some_and(|&byte| is_ows(byte))
        && !starts_like_sentinel(bytes)
}

/// Encodes a value for `Mcp-Name` or `Mcp-Param-*`; borrows when it is plain.
#[must_use]
pub fn encode_header_value(value: &str) -> Cow<'_, str> {
    if is_plain_value(value) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!(
            "{SENTINEL_PREFIX}{}{SENTINEL_SUFFIX}",
            STANDARD.encode(value)
        ))
    }
}

/// Decodes a received `Mcp-Name` or `Mcp-Param-*` value.
///
/// Leading and trailing spaces and tabs are ignored, as they are not part of
/// an HTTP field value (RFC 9110 §5.5). Base64 is decoded strictly: standard
/// alphabet, canonical padding, no stray bits.
///
/// # Errors
/// See [`HeaderValueError`].
pub fn decode_header_value(header: &[u8]) -> Result<Cow<'_, str>, HeaderValueError> {
    let leading = header.iter().take_while(|&&byte| is_ows(byte)).count();
    let value = trim_ows(header);
    if let Some(payload) = sentinel_payload(value) {
        let decoded = STANDARD
            .decode(payload)
            .map_err(|err| HeaderValueError::InvalidBase64 {
                detail: describe_base64_error(&err),
            })?;
        return String::from_utf8(decoded).map(Cow::Owned).map_err(|err| {
            HeaderValueError::InvalidUtf8 {
                valid_up_to: err.utf8_error().valid_up_to(),
            }
        });
    }
    if let Some(offset) = value.iter().position(|&byte| !is_plain_byte(byte)) {
        return Err(HeaderValueError::InvalidByte {
            byte: value.get(offset).copied().unwrap_or_default(),
            position: leading + offset,
        });
    }
    std::str::from_utf8(value)
        .map(Cow::Borrowed)
        .map_err(|err| HeaderValueError::InvalidUtf8 {
            valid_up_to: err.valid_up_to(),
        })
}

fn describe_base64_error(err: &base64::DecodeError) -> String {
    match *err {
        base64::DecodeError::InvalidByte(offset, byte) => {
            format!("invalid symbol 0x{byte:02x} at offset {offset}")
        }
        base64::DecodeError::InvalidLength(len) => format!("invalid length {len}"),
        base64::DecodeError::InvalidLastSymbol(offset, byte) => {
            format!("non-canonical last symbol 0x{byte:02x} at offset {offset}")
        }
        base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
    }
}

/// Whether a received header carries exactly `body` (after decoding).
///
/// # Errors
/// The header does not decode; see [`HeaderValueError`].
pub fn header_matches(header: &[u8], body: &str) -> Result<bool, HeaderValueError> {
    Ok(decode_header_value(header)? == body)
}

/// The `Mcp-Param-*` header value for a JSON body value; `None` means omit the header.
///
/// Strings are encoded as [`encode_header_value`] does, integers as decimal,
/// booleans as `true`/`false`. A number with a zero fractional part (`5.0`)
/// counts as an integer, as in JSON Schema's `integer` type.
///
/// # Errors
/// Fractional numbers, integers beyond ±(2^53 − 1), arrays and objects.
pub fn encode_param_value(value: &Value) -> Result<Option<String>, ParamValueError> {
    Ok(match value {
        Value::Null => None,
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(safe_integer(number)?.to_string()),
        Value::String(text) => Some(encode_header_value(text).into_owned()),
        Value::Array(_) => return Err(ParamValueError::UnsupportedType { kind: "array" }),
        Value::Object(_) => return Err(ParamValueError::UnsupportedType { kind: "object" }),
    })
}

/// Whether a received `Mcp-Param-*` header matches the body value it mirrors.
///
/// `body` is `None` when the argument is absent. A present header for an
/// absent or `null` argument is a mismatch (the client must omit it).
/// Integers are compared numerically: the header must be an optional `-`
/// followed by decimal digits, so `007` matches 7 and `-0` matches 0, while
/// `+7`, `7.0` or `0x7` do not. Booleans must be exactly `true` or `false`.
///
/// # Errors
/// The header does not decode, or the body value is not a valid parameter
/// value (see [`encode_param_value`]); the latter is a tool-input problem,
/// not a header mismatch.
pub fn param_matches(header: &[u8], body: Option<&Value>) -> Result<bool, ParamValueError> {
    let expected_integer = match body {
        None | Some(Value::Null) => return Ok(false),
        Some(Value::Array(_)) => return Err(ParamValueError::UnsupportedType { kind: "array" }),
        Some(Value::Object(_)) => return Err(ParamValueError::UnsupportedType { kind: "object" }),
        Some(Value::Number(number)) => Some(safe_integer(number)?),
        Some(Value::String(_) | Value::Bool(_)) => None,
    };
    let decoded = decode_header_value(header)?;
    Ok(match (body, expected_integer) {
        (_, Some(expected)) => parse_decimal(&decoded) == Some(expected),
        (Some(Value::String(text)), None) => decoded == text.as_str(),
        (Some(Value::Bool(flag)), None) => decoded == if *flag { "true" } else { "false" },
        _ => false,
    })
}

fn safe_integer(number: &Number) -> Result<i64, ParamValueError> {
    let in_range = |value: i64| (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&value);
    if let Some(value) = number.as_i64() {
        return if in_range(value) {
            Ok(value)
        } else {
            Err(ParamValueError::IntegerOutOfRange {
                value: number.to_string(),
            })
        };
    }
    if number.is_u64() {
        return Err(ParamValueError::IntegerOutOfRange {
            value: number.to_string(),
        });
    }
    let float = number.as_f64().unwrap_or(f64::NAN);
    if !float.is_finite() || float.fract() != 0.0 {
        return Err(ParamValueError::NotAnInteger {
            value: number.to_string(),
        });
    }
    // 2^53 − 1 is exactly representable as f64, so this bound check is exact.
    if float.abs() > MAX_SAFE_INTEGER as f64 {
        return Err(ParamValueError::IntegerOutOfRange {
            value: number.to_string(),
        });
    }
    Ok(float as i64)
}

/// `-?[0-9]+` as an `i64`; `None` on any other text or on overflow.
fn parse_decimal(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    digits.bytes().try_fold(0_i64, |acc, byte| {
        if !byte.is_ascii_digit() {
            return None;
        }
        let digit = i64::from(byte - b'0');
        let shifted = acc.checked_mul(10)?;
        if negative {
            shifted.checked_sub(digit)
        } else {
            shifted.checked_add(digit)
        }
    })
}

/// Checks the name in an `x-mcp-header` annotation: a non-empty RFC 9110 token.
///
/// Uniqueness within a schema and the reachability rules are the schema
/// validator's business, not this function's.
///
/// # Errors
/// See [`ParamHeaderNameError`].
pub fn validate_param_header_name(name: &str) -> Result<(), ParamHeaderNameError> {
    if name.is_empty() {
        return Err(ParamHeaderNameError::Empty);
    }
    match name
        .char_indices()
        .find(|&(_, ch)| !(ch.is_ascii() && is_tchar(ch as u8)))
    {
        Some((position, ch)) => Err(ParamHeaderNameError::InvalidCharacter { ch, position }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_and_decodes_values() {
        // (value, expected encoding)
        let rows: &[(&str, &str)] = &[
            ("get_weather", "get_weather"),
            ("file:///tmp/a b.txt", "file:///tmp/a b.txt"),
            ("in\tside", "in\tside"),
            ("", ""),
            ("=?BASE64?", "=?base64?PT9CQVNFNjQ/?="),
            ("=?base64?=", "=?base64?PT9iYXNlNjQ/PQ==?="),
            (" padded", "=?base64?IHBhZGRlZA==?="),
            ("tab\t", "=?base64?dGFiCQ==?="),
            ("héllo", "=?base64?aMOpbGxv?="),
            ("line\nbreak", "=?base64?bGluZQpicmVhaw==?="),
            ("日本", "=?base64?5pel5pys?="),
            ("=?base64?abc?=", "=?base64?PT9iYXNlNjQ/YWJjPz0=?="),
            ("=?Base64?abc?=", "=?base64?PT9CYXNlNjQ/YWJjPz0=?="),
            ("nul\0", "=?base64?bnVsAA==?="),
            ("del\x7f", "=?base64?ZGVsfw==?="),
        ];
        for &(value, expected) in rows {
            let encoded = encode_header_value(value);
            assert_eq!(encoded, expected, "{value:?}");
            assert_eq!(
                decode_header_value(encoded.as_bytes()).as_deref(),
                Ok(value),
                "{value:?}"
            );
            assert_eq!(
                header_matches(encoded.as_bytes(), value),
                Ok(true),
                "{value:?}"
            );
        }
    }

    #[test]
    fn decodes_received_headers() {
        let invalid_base64 = |detail: &str| {
            Err(HeaderValueError::InvalidBase64 {
                detail: detail.to_owned(),
            })
        };
        let rows: &[(&[u8], Result<&str, HeaderValueError>)] = &[
            (b"plain value", Ok("plain value")),
            (b"  trimmed\t", Ok("trimmed")),
            (b"=?base64??=", Ok("")),
            (b"=?base64?abc", Ok("=?base64?abc")),
            (b"=?BASE64?aMOpbGxv?=", Ok("=?BASE64?aMOpbGxv?=")),
            (b"=?base64?=", Ok("=?base64?=")),
            (b"=?base64?abc?=", invalid_base64("invalid padding")),
            (
                b"=?base64?aMOpbGxv=?=",
                invalid_base64("invalid symbol 0x3d at offset 8"),
            ),
            (b"=?base64?aGk?=", invalid_base64("invalid padding")),
            (
                b"=?base64?aGl=?=",
                invalid_base64("non-canonical last symbol 0x6c at offset 2"),
            ),
            (
                b"=?base64?a!==?=",
                invalid_base64("invalid symbol 0x21 at offset 1"),
            ),
            (
                b"=?base64?aGk-?=",
                invalid_base64("invalid symbol 0x2d at offset 3"),
            ),
            (
                b"=?base64?/w==?=",
                Err(HeaderValueError::InvalidUtf8 { valid_up_to: 0 }),
            ),
            (
                b"bell\x07",
                Err(HeaderValueError::InvalidByte {
                    byte: 7,
                    position: 4,
                }),
            ),
            (
                b" a\rb",
                Err(HeaderValueError::InvalidByte {
                    byte: b'\r',
                    position: 2,
                }),
            ),
            (
                b"h\xc3\xa9llo",
                Err(HeaderValueError::InvalidByte {
                    byte: 0xc3,
                    position: 1,
                }),
            ),
        ];
        for (input, expected) in rows {
            let got = decode_header_value(input);
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                expected.clone(),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn compares_headers_case_sensitively() {
        let rows: &[(&[u8], &str, Result<bool, HeaderValueError>)] = &[
            (b"echo", "echo", Ok(true)),
            (b"Echo", "echo", Ok(false)),
            (b"padded", " padded", Ok(false)),
            (b"=?base64?IHBhZGRlZA==?=", " padded", Ok(true)),
            (
                b"x\x00",
                "x",
                Err(HeaderValueError::InvalidByte {
                    byte: 0,
                    position: 1,
                }),
            ),
        ];
        for (header, body, expected) in rows {
            assert_eq!(&header_matches(header, body), expected, "{body:?}");
        }
    }

    #[test]
    fn encodes_param_values() {
        let out_of_range = |value: &str| {
            Err(ParamValueError::IntegerOutOfRange {
                value: value.to_owned(),
            })
        };
        let rows: Vec<(Value, Result<Option<&str>, ParamValueError>)> = vec![
            (json!(null), Ok(None)),
            (json!(true), Ok(Some("true"))),
            (json!(false), Ok(Some("false"))),
            (json!(0), Ok(Some("0"))),
            (json!(-42), Ok(Some("-42"))),
            (
                json!(9_007_199_254_740_991_i64),
                Ok(Some("9007199254740991")),
            ),
            (
                json!(-9_007_199_254_740_991_i64),
                Ok(Some("-9007199254740991")),
            ),
            (
                json!(9_007_199_254_740_992_i64),
                out_of_range("9007199254740992"),
            ),
            (
                json!(-9_007_199_254_740_992_i64),
                out_of_range("-9007199254740992"),
            ),
            (json!(u64::MAX), out_of_range("18446744073709551615")),
            (json!(5.0), Ok(Some("5"))),
            (json!(-0.0), Ok(Some("0"))),
            (json!(1e300), out_of_range("1e+300")),
            (
                json!(1.5),
                Err(ParamValueError::NotAnInteger {
                    value: "1.5".into(),
                }),
            ),
            (json!("plain"), Ok(Some("plain"))),
            (json!(" x"), Ok(Some("=?base64?IHg=?="))),
            (
                json!([1]),
                Err(ParamValueError::UnsupportedType { kind: "array" }),
            ),
            (
                json!({}),
                Err(ParamValueError::UnsupportedType { kind: "object" }),
            ),
        ];
        for (value, expected) in rows {
            let got = encode_param_value(&value);
            assert_eq!(
                got.as_ref().map(Option::as_deref),
                expected.as_ref().map(|o| *o),
                "{value}"
            );
        }
    }

    #[test]
    fn matches_param_values() {
        type Row = (&'static [u8], Option<Value>, Result<bool, ParamValueError>);
        let rows: Vec<Row> = vec![
            (b"7", Some(json!(7)), Ok(true)),
            (b"007", Some(json!(7)), Ok(true)),
            (b"-0", Some(json!(0)), Ok(true)),
            (b"-12", Some(json!(-12)), Ok(true)),
            (b"5", Some(json!(5.0)), Ok(true)),
            (b"+7", Some(json!(7)), Ok(false)),
            (b"7.0", Some(json!(7)), Ok(false)),
            (b"", Some(json!(0)), Ok(false)),
            (b"-", Some(json!(0)), Ok(false)),
            (b"99999999999999999999999", Some(json!(7)), Ok(false)),
            (b"=?base64?Nw==?=", Some(json!(7)), Ok(true)),
            (b"8", Some(json!(7)), Ok(false)),
            (b"true", Some(json!(true)), Ok(true)),
            (b"True", Some(json!(true)), Ok(false)),
            (b"false", Some(json!(false)), Ok(true)),
            (b"true", Some(json!("true")), Ok(true)),
            (b"=?base64?aMOpbGxv?=", Some(json!("héllo")), Ok(true)),
            (b"x", None, Ok(false)),
            (b"null", Some(json!(null)), Ok(false)),
            (
                b"1",
                Some(json!([1])),
                Err(ParamValueError::UnsupportedType { kind: "array" }),
            ),
            (
                b"1.5",
                Some(json!(1.5)),
                Err(ParamValueError::NotAnInteger {
                    value: "1.5".into(),
                }),
            ),
            (
                b"a\nb",
                Some(json!("a\nb")),
                Err(ParamValueError::Header(HeaderValueError::InvalidByte {
                    byte: b'\n',
                    position: 1,
                })),
            ),
        ];
        for (header, body, expected) in rows {
            assert_eq!(
                param_matches(header, body.as_ref()),
                expected,
                "{:?} {body:?}",
                String::from_utf8_lossy(header)
            );
        }
    }

    #[test]
    fn validates_param_header_names() {
        let rows: &[(&str, Result<(), ParamHeaderNameError>)] = &[
            ("Region", Ok(())),
            ("x-trace_id.v2", Ok(())),
            ("!#$%&'*+-.^_`|~", Ok(())),
            ("", Err(ParamHeaderNameError::Empty)),
            (
                "a b",
                Err(ParamHeaderNameError::InvalidCharacter {
                    ch: ' ',
                    position: 1,
                }),
            ),
            (
                "a\r\nb",
                Err(ParamHeaderNameError::InvalidCharacter {
                    ch: '\r',
                    position: 1,
                }),
            ),
            (
                "a:b",
                Err(ParamHeaderNameError::InvalidCharacter {
                    ch: ':',
                    position: 1,
                }),
            ),
            (
                "région",
                Err(ParamHeaderNameError::InvalidCharacter {
                    ch: 'é',
                    position: 1,
                }),
            ),
        ];
        for (name, expected) in rows {
            assert_eq!(&validate_param_header_name(name), expected, "{name:?}");
        }
    }
}
