//! Media types, parameters and quoted strings (RFC 9110 §5.6, §8.3.1).
//!
//! This is the shared grammar behind [`Accept`](super::accept) and
//! [`Content-Type`](super::content_type):
//!
//! ```text
//! media-type = type "/" subtype parameters
//! parameters = *( OWS ";" OWS [ parameter ] )       ; empty parameters allowed
//! parameter  = parameter-name "=" parameter-value
//! parameter-value = token / quoted-string
//! ```
//!
//! Two deliberate leniencies: optional whitespace is tolerated around `=`
//! (real clients send `charset = utf-8`), and leading/trailing whitespace of
//! the whole value is ignored (a field value never includes it, RFC 9110 §5.5,
//! but some adapters hand over untrimmed slices).
//!
//! ```
//! use mcp_proto::http::media_type::MediaType;
//!
//! let media_type = MediaType::parse(b"Application/JSON; charset=\"utf-8\"").unwrap();
//! assert!(media_type.essence_eq("application", "json"));
//! assert_eq!(media_type.param("CHARSET").and_then(|p| p.value_str()), Some("utf-8"));
//! ```

use std::borrow::Cow;

/// Why a media type, media range or parameter list failed to parse.
///
/// Positions are byte offsets into the value (or list member) being parsed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaTypeError {
    /// The value is empty or whitespace only.
    #[error("empty media type")]
    Empty,
    /// The type is missing or is not a token.
    #[error("missing or invalid type at byte {position}")]
    InvalidType {
        /// Where the type was expected.
        position: usize,
    },
    /// The type is not followed by `/`.
    #[error("expected '/' after the type at byte {position}")]
    MissingSlash {
        /// Where the `/` was expected.
        position: usize,
    },
    /// The subtype is missing or is not a token.
    #[error("missing or invalid subtype at byte {position}")]
    InvalidSubtype {
        /// Where the subtype was expected.
        position: usize,
    },
    /// A parameter name is missing or is not a token.
    #[error("missing or invalid parameter name at byte {position}")]
    InvalidParameterName {
        /// Where the name was expected.
        position: usize,
    },
    /// A parameter has no `=` or no value after it.
    #[error("missing parameter value at byte {position}")]
    MissingParameterValue {
        /// Where the `=` or the value was expected.
        position: usize,
    },
    /// A quoted string has no closing `"`.
    #[error("unterminated quoted string starting at byte {position}")]
    UnterminatedQuotedString {
        /// Where the opening `"` is.
        position: usize,
    },
    /// A byte that the grammar does not allow at this place.
    #[error("unexpected byte 0x{byte:02x} at byte {position}")]
    UnexpectedByte {
        /// The offending byte.
        byte: u8,
        /// Where it is.
        position: usize,
    },
}

/// Whether `byte` is an RFC 9110 §5.6.2 `tchar`.
#[must_use]
pub const fn is_tchar(byte: u8) -> bool {
    matches!(byte,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.'
        | b'^' | b'_' | b'`' | b'|' | b'~'
        | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Whether `bytes` is a non-empty RFC 9110 `token` (`1*tchar`).
#[must_use]
pub fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&byte| is_tchar(byte))
}

/// Whether `value` names UTF-8 as a charset (`utf-8`, any case).
///
/// Aliases such as `utf8` are not IANA names and are refused, so a client
/// that means UTF-8 has to say so in the registered spelling.
#[must_use]
pub fn is_utf8_charset(value: &[u8]) -> bool {
    value.eq_ignore_ascii_case(b"utf-8")
}

/// One `name=value` parameter of a media type, borrowed from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter<'a> {
    name: &'a str,
    value: Cow<'a, [u8]>,
}

impl<'a> Parameter<'a> {
    /// The parameter name as written (compare it case-insensitively).
    #[must_use]
    pub const fn name(&self) -> &'a str {
        self.name
    }

    /// Whether the name equals `name`, ignoring ASCII case.
    #[must_use]
    pub fn name_eq(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value with quotes removed and `\` escapes resolved.
    ///
    /// Bytes rather than `str` because a quoted string may carry `obs-text`
    /// (0x80–0xFF), which need not be UTF-8.
    #[must_use]
    pub fn value_bytes(&self) -> &[u8] {
        &self.value
    }

    /// The value as text, or `None` when it is not valid UTF-8.
    #[must_use]
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }
}

/// A parsed media type: `type/subtype` and its parameters, borrowed from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType<'a> {
    main_type: &'a str,
    subtype: &'a str,
    params: Vec<Parameter<'a>>,
}

impl<'a> MediaType<'a> {
    /// Parses one media type, e.g. a `Content-Type` value.
    ///
    /// Wildcards are not special here: `*` is a `tchar`, so `*/*` parses and
    /// simply never equals a concrete essence.
    ///
    /// # Errors
    /// Returns [`MediaTypeError`] when `bytes` is not a `media-type`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, MediaTypeError> {
        let mut cursor = Cursor::new(bytes);
        let (main_type, subtype) = cursor.type_and_subtype()?;
        let mut params = Vec::new();
        while let Some(raw) = cursor.next_parameter()? {
            let value = raw
                .value
                .ok_or(MediaTypeError::MissingParameterValue { position: raw.end })?;
            params.push(Parameter {
                name: raw.name,
                value,
            });
        }
        Ok(Self {
            main_type,
            subtype,
            params,
        })
    }

    /// The type as written, e.g. `Application` (compare case-insensitively).
    #[must_use]
    pub const fn main_type(&self) -> &'a str {
        self.main_type
    }

    /// The subtype as written, e.g. `JSON` (compare case-insensitively).
    #[must_use]
    pub const fn subtype(&self) -> &'a str {
        self.subtype
    }

    /// Whether `type/subtype` equals the given pair, ignoring ASCII case.
    #[must_use]
    pub fn essence_eq(&self, main_type: &str, subtype: &str) -> bool {
        self.main_type.eq_ignore_ascii_case(main_type) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// The parameters in the order written.
    pub fn params(&self) -> impl Iterator<Item = &Parameter<'a>> {
        self.params.iter()
    }

    /// The first parameter named `name` (ASCII case-insensitive).
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&Parameter<'a>> {
        self.params.iter().find(|param| param.name_eq(name))
    }

    /// The first `charset` parameter whose value is not UTF-8, if any.
    #[must_use]
    pub fn non_utf8_charset(&self) -> Option<&Parameter<'a>> {
        self.params
            .iter()
            .find(|param| param.name_eq("charset") && !is_utf8_charset(param.value_bytes()))
    }
}

/// Splits a comma-separated field value into its members (RFC 9110 §5.6.1).
///
/// Commas inside quoted strings do not split. Members are trimmed of OWS and
/// empty members (`a,,b`, leading or trailing commas) are skipped. An
/// unterminated quoted string runs to the end of the value, so the last
/// member then fails to parse instead of being silently cut.
pub fn list_members(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    ListMembers { rest: value }
}

#[derive(Debug)]
struct ListMembers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for ListMembers<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while !self.rest.is_empty() {
            let end = member_end(self.rest);
            let (member, rest) = self.rest.split_at(end);
            self.rest = rest.get(1..).unwrap_or_default();
            let member = trim_ows(member);
            if !member.is_empty() {
                return Some(member);
            }
        }
        None
    }
}

/// Index of the first comma outside a quoted string, or `bytes.len()`.
fn member_end(bytes: &[u8]) -> usize {
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, &byte) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if in_quotes {
            match byte {
                b'\\' => escaped = true,
                b'"' => in_quotes = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_quotes = true,
                b',' => return index,
                _ => {}
            }
        }
    }
    bytes.len()
}

pub(crate) const fn is_ows(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Strips leading and trailing OWS (space and tab).
pub(crate) fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&byte| !is_ows(byte))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&byte| !is_ows(byte))
        .map_or(start, |last| last + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// A short, lossy, printable rendering of untrusted bytes for error messages.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    const MAX_EXCERPT_BYTES: usize = 64;
    let shown = bytes.get(..MAX_EXCERPT_BYTES).unwrap_or(bytes);
    let mut text: String = String::from_utf8_lossy(shown)
        .chars()
        .map(|ch| if ch.is_control() { '\u{FFFD}' } else { ch })
        .collect();
    if shown.len() < bytes.len() {
        text.push('…');
    }
    text
}

/// A parameter as found, before the caller decides whether a value is required.
#[derive(Debug)]
pub(crate) struct RawParameter<'a> {
    pub(crate) name: &'a str,
    /// `None` when no `=` follows the name (only legal in old `accept-ext`).
    pub(crate) value: Option<Cow<'a, [u8]>>,
    /// Byte offset just past the parameter, for error positions.
    pub(crate) end: usize,
}

/// A forward-only reader over one media type or list member.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn eat(&mut self, expected: u8) -> bool {
        let found = self.peek() == Some(expected);
        if found {
            self.position += 1;
        }
        found
    }

    fn skip_ows(&mut self) {
        while self.peek().is_some_and(is_ows) {
            self.position += 1;
        }
    }

    fn token(&mut self) -> Option<&'a str> {
        let rest = self.bytes.get(self.position..)?;
        let len = rest.iter().take_while(|&&byte| is_tchar(byte)).count();
        let token = rest.get(..len).filter(|token| !token.is_empty())?;
        // tchar is ASCII, so this conversion cannot fail; `ok()` keeps it panic-free.
        let token = std::str::from_utf8(token).ok()?;
        self.position += len;
        Some(token)
    }

    /// Reads a quoted string; the cursor must be on the opening `"`.
    fn quoted_string(&mut self) -> Result<Cow<'a, [u8]>, MediaTypeError> {
        let open = self.position;
        self.position += 1;
        let content_start = self.position;
        let mut unescaped: Option<Vec<u8>> = None;
        loop {
            let Some(byte) = self.peek() else {
                return Err(MediaTypeError::UnterminatedQuotedString { position: open });
            };
            let at = self.position;
            self.position += 1;
            match byte {
                b'"' => {
                    return Ok(match unescaped {
                        Some(owned) => Cow::Owned(owned),
                        None => {
                            Cow::Borrowed(self.bytes.get(content_start..at).unwrap_or_default())
                        }
                    });
                }
                b'\\' => {
                    let escaped = match self.peek() {
                        Some(next) if is_quoted_pair_byte(next) => next,
                        Some(next) => {
                            return Err(MediaTypeError::UnexpectedByte {
                                byte: next,
                                position: self.position,
                            });
                        }
                        None => {
                            return Err(MediaTypeError::UnterminatedQuotedString {
                                position: open,
                            });
                        }
                    };
                    self.position += 1;
                    let owned = unescaped.get_or_insert_with(|| {
                        self.bytes
                            .get(content_start..at)
                            .unwrap_or_default()
                            .to_vec()
                    });
                    owned.push(escaped);
                }
                _ if is_qdtext(byte) => {
                    if let Some(owned) = unescaped.as_mut() {
                        owned.push(byte);
                    }
                }
                _ => {
                    return Err(MediaTypeError::UnexpectedByte { byte, position: at });
                }
            }
        }
    }

    /// Reads leading OWS and `type/subtype`.
    pub(crate) fn type_and_subtype(&mut self) -> Result<(&'a str, &'a str), MediaTypeError> {
        self.skip_ows();
        if self.peek().is_none() {
            return Err(MediaTypeError::Empty);
        }
        let main_type = self.token().ok_or(MediaTypeError::InvalidType {
            position: self.position,
        })?;
        if !self.eat(b'/') {
            return Err(MediaTypeError::MissingSlash {
                position: self.position,
            });
        }
        let subtype = self.token().ok_or(MediaTypeError::InvalidSubtype {
            position: self.position,
        })?;
        Ok((main_type, subtype))
    }

    /// Reads the next `; name=value`, skipping empty parameters; `None` at the end.
    pub(crate) fn next_parameter(&mut self) -> Result<Option<RawParameter<'a>>, MediaTypeError> {
        loop {
            self.skip_ows();
            let Some(byte) = self.peek() else {
                return Ok(None);
            };
            if byte != b';' {
                return Err(MediaTypeError::UnexpectedByte {
                    byte,
                    position: self.position,
                });
            }
            self.position += 1;
            self.skip_ows();
            match self.peek() {
                None => return Ok(None),
                Some(b';') => continue,
                Some(_) => {}
            }
            let name = self.token().ok_or(MediaTypeError::InvalidParameterName {
                position: self.position,
            })?;
            self.skip_ows();
            if !self.eat(b'=') {
                return Ok(Some(RawParameter {
                    name,
                    value: None,
                    end: self.position,
                }));
            }
            self.skip_ows();
            let value = match self.peek() {
                Some(b'"') => self.quoted_string()?,
                _ => Cow::Borrowed(
                    self.token()
                        .ok_or(MediaTypeError::MissingParameterValue {
                            position: self.position,
                        })?
                        .as_bytes(),
                ),
            };
            return Ok(Some(RawParameter {
                name,
                value: Some(value),
                end: self.position,
            }));
        }
    }
}

/// `qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text`
const fn is_qdtext(byte: u8) -> bool {
    matches!(byte, b'\t' | b' ' | 0x21 | 0x23..=0x5B | 0x5D..=0x7E | 0x80..=0xFF)
}

/// `quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )`
const fn is_quoted_pair_byte(byte: u8) -> bool {
    matches!(byte, b'\t' | b' ' | 0x21..=0x7E | 0x80..=0xFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_media_types() {
        type Row = (
            &'static [u8],
            &'static str,
            &'static str,
            &'static [(&'static str, &'static [u8])],
        );
        let rows: &[Row] = &[
            (b"application/json", "application", "json", &[]),
            (b"  Application/JSON\t", "Application", "JSON", &[]),
            (
                b"application/json;charset=utf-8",
                "application",
                "json",
                &[("charset", b"utf-8")],
            ),
            (
                b"application/json ; charset = \"utf-8\" ",
                "application",
                "json",
                &[("charset", b"utf-8")],
            ),
            (
                b"a/b;x=\"a,b;c\";y=z",
                "a",
                "b",
                &[("x", b"a,b;c"), ("y", b"z")],
            ),
            (b"a/b;x=\"q\\\"uo\\\\te\"", "a", "b", &[("x", b"q\"uo\\te")]),
            (b"a/b;x=\"\"", "a", "b", &[("x", b"")]),
            (b"a/b;;; x=1 ;", "a", "b", &[("x", b"1")]),
            (b"*/*", "*", "*", &[]),
            (b"a/b;x=\"\xe9\"", "a", "b", &[("x", b"\xe9")]),
        ];
        for &(input, main_type, subtype, params) in rows {
            let parsed = MediaType::parse(input)
                .unwrap_or_else(|err| panic!("{:?}: {err}", String::from_utf8_lossy(input)));
            assert_eq!(parsed.main_type(), main_type);
            assert_eq!(parsed.subtype(), subtype);
            let got: Vec<(&str, &[u8])> = parsed
                .params()
                .map(|p| (p.name(), p.value_bytes()))
                .collect();
            assert_eq!(got, params, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn rejects_malformed_media_types() {
        let rows: &[(&[u8], MediaTypeError)] = &[
            (b"", MediaTypeError::Empty),
            (b" \t ", MediaTypeError::Empty),
            (b"/json", MediaTypeError::InvalidType { position: 0 }),
            (
                b"application",
                MediaTypeError::MissingSlash { position: 11 },
            ),
            (
                b"application/",
                MediaTypeError::InvalidSubtype { position: 12 },
            ),
            (
                b"application /json",
                MediaTypeError::MissingSlash { position: 11 },
            ),
            (
                b"application/json x",
                MediaTypeError::UnexpectedByte {
                    byte: b'x',
                    position: 17,
                },
            ),
            (
                b"application/json;=1",
                MediaTypeError::InvalidParameterName { position: 17 },
            ),
            (
                b"application/json;a",
                MediaTypeError::MissingParameterValue { position: 18 },
            ),
            (
                b"application/json;a=",
                MediaTypeError::MissingParameterValue { position: 19 },
            ),
            (
                b"application/json;a=\"x",
                MediaTypeError::UnterminatedQuotedString { position: 19 },
            ),
            (
                b"application/json;a=\"x\\",
                MediaTypeError::UnterminatedQuotedString { position: 19 },
            ),
            (
                b"application/json;a=\"\x01\"",
                MediaTypeError::UnexpectedByte {
                    byte: 1,
                    position: 20,
                },
            ),
            (
                b"application/json;a=b c",
                MediaTypeError::UnexpectedByte {
                    byte: b'c',
                    position: 21,
                },
            ),
            (
                b"application/json, text/plain",
                MediaTypeError::UnexpectedByte {
                    byte: b',',
                    position: 16,
                },
            ),
        ];
        for (input, expected) in rows {
            assert_eq!(
                MediaType::parse(input).as_ref().err(),
                Some(expected),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn splits_lists_outside_quotes() {
        let rows: &[(&[u8], &[&[u8]])] = &[
            (b"", &[]),
            (b" , ,, ", &[]),
            (b"a, b", &[b"a", b"b"]),
            (b",a,,\tb ,", &[b"a", b"b"]),
            (b"a;x=\"1,2\", b", &[b"a;x=\"1,2\"", b"b"]),
            (b"a;x=\"1\\\",2\", b", &[b"a;x=\"1\\\",2\"", b"b"]),
            (b"a;x=\"open, b", &[b"a;x=\"open, b"]),
        ];
        for &(input, expected) in rows {
            let got: Vec<&[u8]> = list_members(input).collect();
            assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn classifies_tokens_and_charsets() {
        let rows: &[(&[u8], bool, bool)] = &[
            // (input, is_token, is_utf8_charset)
            (b"utf-8", true, true),
            (b"UTF-8", true, true),
            (b"utf8", true, false),
            (b"latin1", true, false),
            (b"", false, false),
            (b"a b", false, false),
            (b"a\r\n", false, false),
        ];
        for &(input, token, utf8) in rows {
            assert_eq!(is_token(input), token, "{input:?}");
            assert_eq!(is_utf8_charset(input), utf8, "{input:?}");
        }
    }

    #[test]
    fn excerpts_are_bounded_and_printable() {
        let rows: &[(&[u8], &str)] = &[
            (b"abc", "abc"),
            (b"a\nb", "a\u{FFFD}b"),
            (
                &[b'x'; 70],
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…",
            ),
        ];
        for &(input, expected) in rows {
            assert_eq!(excerpt(input), expected);
        }
    }
}
