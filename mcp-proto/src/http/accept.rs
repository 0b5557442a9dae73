//! `Accept` negotiation for the two media types MCP responds with
//! (RFC 9110 §12.5.1).
//!
//! The only questions an MCP server asks are: may I answer with
//! `application/json`, may I answer with `text/event-stream`, and which does
//! the client prefer. [`parse_accept`] answers all three with an
//! [`Acceptance`].
//!
//! Rules, in the order they apply:
//! - All `Accept` field lines form one comma-separated list; empty members
//!   (`a,,b`) are ignored (RFC 9110 §5.6.1). Commas and semicolons inside
//!   quoted strings never split. An unterminated quote ends with its field
//!   line, so one broken line never swallows the members of the next (joining
//!   the lines with commas is equivalent only while every quote is closed).
//! - Each member is `type/subtype`, `type/*` or `*/*`, parameters, and an
//!   optional weight `q=` (name case-insensitive, 0 to 1, at most three
//!   decimals). A quoted weight (`q="0.5"`) reads like the bare one, as
//!   RFC 9110 §5.6.6 makes quoted and unquoted values equivalent.
//!   Parameters after the weight (the old `accept-ext`) are syntax-checked
//!   and ignored.
//! - A member that does not parse (bad syntax, `*/json`, a bad weight) is
//!   skipped and counted in [`Acceptance::malformed_members`].
//! - For each of our types the most specific matching range decides its
//!   quality: exact type with more parameters, then exact type, then
//!   `type/*`, then `*/*`. Between equally specific ranges the lowest weight
//!   wins, so an explicit refusal is never outvoted by a duplicate and the
//!   result does not depend on member order. `q=0` means "not acceptable".
//! - Parameters other than `q` do not affect matching, except `charset`:
//!   both JSON (RFC 8259) and SSE are always UTF-8, so a range whose
//!   `charset` is anything but `utf-8` (any case, quoted or not) matches
//!   neither of them.
//!
//! Missing and degenerate headers:
//! - No `Accept` line at all: everything is acceptable (RFC 9110 §12.5.1).
//! - Lines present but with no members (empty, whitespace, only commas):
//!   treated as absent. RFC 9110 lets a server disregard the field, and an
//!   empty value is what proxies and hand-written clients emit when they mean
//!   "no preference"; refusing it would repeat the 406 bug this module exists
//!   to fix.
//! - Members present but none well-formed: [`AcceptError::Malformed`], so
//!   the caller chooses between "treat as absent" and 400.
//!
//! ```
//! use mcp_proto::http::accept::{parse_accept, McpMediaType};
//!
//! let acceptance = parse_accept([&b"application/json, text/event-stream;q=0.5"[..]]).unwrap();
//! assert!(acceptance.accepts_json() && acceptance.accepts_event_stream());
//! assert_eq!(acceptance.preferred(), Some(McpMediaType::Json));
//!
//! // curl's default is fine; an explicit q=0 is honoured.
//! assert!(parse_accept([&b"*/*"[..]]).unwrap().accepts_json());
//! let refused = parse_accept([&b"application/json;q=0, */*"[..]]).unwrap();
//! assert!(!refused.accepts_json() && refused.accepts_event_stream());
//! ```

use std::fmt;
use std::sync::OnceLock;

use super::media_type::{Cursor, MediaTypeError, excerpt, is_utf8_charset, list_members};

/// A weight in thousandths: 0 (not acceptable) to 1000 (fully acceptable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quality(u16);

impl Quality {
    /// `q=0`: not acceptable.
    pub const ZERO: Self = Self(0);
    /// `q=1`: the default weight.
    pub const ONE: Self = Self(1000);

    /// A quality from thousandths, or `None` above 1000.
    #[must_use]
    pub const fn from_thousandths(thousandths: u16) -> Option<Self> {
        if thousandths <= 1000 {
            Some(Self(thousandths))
        } else {
            None
        }
    }

    /// The weight in thousandths (0..=1000).
    #[must_use]
    pub const fn thousandths(self) -> u16 {
        self.0
    }

    /// Whether the weight is above zero.
    #[must_use]
    pub const fn is_acceptable(self) -> bool {
        self.0 > 0
    }

    /// Parses an RFC 9110 `qvalue`: `0[.ddd]` or `1[.000]`.
    fn parse(bytes: &[u8]) -> Option<Self> {
        let (&integer, rest) = bytes.split_first()?;
        let decimals = match rest.split_first() {
            None => &[][..],
            Some((&b'.', decimals)) => decimals,
            Some(_) => return None,
        };
        if decimals.len() > 3 || !decimals.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut thousandths: u16 = 0;
        let mut scale: u16 = 100;
        for &digit in decimals {
            thousandths += u16::from(digit - b'0') * scale;
            scale /= 10;
        }
        match integer {
            b'0' => Some(Self(thousandths)),
            b'1' if thousandths == 0 => Some(Self::ONE),
            _ => None,
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// The response media types an MCP server chooses between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum McpMediaType {
    /// `application/json`: one JSON-RPC message.
    Json,
    /// `text/event-stream`: an SSE stream.
    EventStream,
}

impl McpMediaType {
    /// The lowercase `type/subtype`, ready for a `Content-Type` header.
    #[must_use]
    pub const fn essence(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::EventStream => "text/event-stream",
        }
    }

    const fn type_and_subtype(self) -> (&'static str, &'static str) {
        match self {
            Self::Json => ("application", "json"),
            Self::EventStream => ("text", "event-stream"),
        }
    }
}

impl fmt::Display for McpMediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.essence())
    }
}

/// What a client's `Accept` header allows for the two MCP media types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acceptance {
    json: Quality,
    event_stream: Quality,
    members: usize,
    malformed_members: usize,
}

impl Acceptance {
    /// The result for an absent (or empty) header: both types at full weight.
    pub const ANY: Self = Self {
        json: Quality::ONE,
        event_stream: Quality::ONE,
        members: 0,
        malformed_members: 0,
    };

    /// The weight of `application/json`.
    #[must_use]
    pub const fn json(&self) -> Quality {
        self.json
    }

    /// The weight of `text/event-stream`.
    #[must_use]
    pub const fn event_stream(&self) -> Quality {
        self.event_stream
    }

    /// The weight of `media_type`.
    #[must_use]
    pub const fn quality(&self, media_type: McpMediaType) -> Quality {
        match media_type {
            McpMediaType::Json => self.json,
            McpMediaType::EventStream => self.event_stream,
        }
    }

    /// Whether `application/json` may be sent.
    #[must_use]
    pub const fn accepts_json(&self) -> bool {
        self.json.is_acceptable()
    }

    /// Whether `text/event-stream` may be sent.
    #[must_use]
    pub const fn accepts_event_stream(&self) -> bool {
        self.event_stream.is_acceptable()
    }

    /// Whether both may be sent (what MCP clients are required to declare).
    #[must_use]
    pub const fn accepts_both(&self) -> bool {
        self.accepts_json() && self.accepts_event_stream()
    }

    /// The strictly preferred acceptable type.
    ///
    /// `None` when the weights are equal (the server picks whatever suits the
    /// response, usually JSON for a single result) or when neither is
    /// acceptable (check [`accepts_json`](Self::accepts_json) first).
    #[must_use]
    pub fn preferred(&self) -> Option<McpMediaType> {
        match self.json.cmp(&self.event_stream) {
            std::cmp::Ordering::Greater => Some(McpMediaType::Json),
            std::cmp::Ordering::Less => Some(McpMediaType::EventStream),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// Well-formed members considered; 0 when the header was absent or empty.
    #[must_use]
    pub const fn members(&self) -> usize {
        self.members
    }

    /// Members skipped because they did not parse.
    #[must_use]
    pub const fn malformed_members(&self) -> usize {
        self.malformed_members
    }
}

/// Bounds on the work [`parse_accept_with_limits`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptLimits {
    max_members: usize,
    max_field_bytes: usize,
}

impl AcceptLimits {
    /// 64 members and 8 KiB, far above any real client.
    pub const DEFAULT: Self = Self {
        max_members: 64,
        max_field_bytes: 8 * 1024,
    };

    /// Limits the number of non-empty members, malformed ones included.
    #[must_use]
    pub const fn with_max_members(self, max_members: usize) -> Self {
        Self {
            max_members,
            ..self
        }
    }

    /// Limits the combined size of all lines, counting one separator byte
    /// between lines (so many empty lines also hit the limit).
    #[must_use]
    pub const fn with_max_field_bytes(self, max_field_bytes: usize) -> Self {
        Self {
            max_field_bytes,
            ..self
        }
    }

    /// The member limit.
    #[must_use]
    pub const fn max_members(&self) -> usize {
        self.max_members
    }

    /// The byte limit.
    #[must_use]
    pub const fn max_field_bytes(&self) -> usize {
        self.max_field_bytes
    }
}

impl Default for AcceptLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why one `Accept` member was skipped.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcceptMemberError {
    /// The member is not a media range with parameters.
    #[error(transparent)]
    Syntax(#[from] MediaTypeError),
    /// A wildcard type with a concrete subtype, e.g. `*/json`.
    #[error("invalid media range {range:?}")]
    InvalidRange {
        /// The offending range (shortened).
        range: String,
    },
    /// The weight is not `0[.ddd]` or `1[.000]`.
    #[error("invalid weight q={value:?}")]
    InvalidWeight {
        /// The offending value (shortened).
        value: String,
    },
}

/// Why an `Accept` field could not be used at all.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcceptError {
    /// The field has members but none is well-formed.
    #[error("no well-formed member in accept ({count} malformed, first: {first})")]
    Malformed {
        /// How many members were skipped.
        count: usize,
        /// Why the first one was skipped.
        first: AcceptMemberError,
    },
    /// More members than [`AcceptLimits::max_members`].
    #[error("accept has more than {max} members")]
    TooManyMembers {
        /// The limit.
        max: usize,
    },
    /// The lines together exceed [`AcceptLimits::max_field_bytes`].
    #[error("accept is longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
}

/// Parses all `Accept` field lines of a request with [`AcceptLimits::DEFAULT`].
///
/// Pass an empty iterator when the header is absent.
///
/// # Errors
/// See [`AcceptError`].
pub fn parse_accept<'a, I>(lines: I) -> Result<Acceptance, AcceptError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut lines = lines.into_iter();
    let first = lines.next();
    let second = lines.next();
    if second.is_none()
        && let Some(known) = first.and_then(common_acceptance)
    {
        return Ok(known);
    }
    parse_accept_with_limits(
        first.into_iter().chain(second).chain(lines),
        AcceptLimits::DEFAULT,
    )
}

/// `Accept` values that MCP clients send with nearly every request.
const COMMON_ACCEPT_VALUES: [&[u8]; 6] = [
    b"application/json, text/event-stream",
    b"application/json,text/event-stream",
    b"text/event-stream, application/json",
    b"application/json",
    b"text/event-stream",
    b"*/*",
];

/// The parse of `line` when it is one of [`COMMON_ACCEPT_VALUES`]: parsed once, by the general
/// parser, on first use.
fn common_acceptance(line: &[u8]) -> Option<Acceptance> {
    static PARSED: OnceLock<Vec<Option<Acceptance>>> = OnceLock::new();
    let index = COMMON_ACCEPT_VALUES
        .iter()
        .position(|known| *known == line)?;
    let parsed = PARSED.get_or_init(|| {
        COMMON_ACCEPT_VALUES
            .iter()
            .map(|value| parse_accept_with_limits([*value], AcceptLimits::DEFAULT).ok())
            .collect()
    });
    parsed.get(index).copied().flatten()
}

/// Parses all `Accept` field lines of a request with explicit limits.
///
/// # Errors
/// See [`AcceptError`].
pub fn parse_accept_with_limits<'a, I>(
    lines: I,
    limits: AcceptLimits,
) -> Result<Acceptance, AcceptError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut json = Best::default();
    let mut event_stream = Best::default();
    let mut members = 0_usize;
    let mut malformed = 0_usize;
    let mut first_error = None;
    let mut total_bytes = 0_usize;

    for (index, line) in lines.into_iter().enumerate() {
        let separator = usize::from(index > 0);
        total_bytes = total_bytes
            .saturating_add(line.len())
            .saturating_add(separator);
        if total_bytes > limits.max_field_bytes {
            return Err(AcceptError::TooLong {
                max: limits.max_field_bytes,
            });
        }
        for member in list_members(line) {
            if members + malformed >= limits.max_members {
                return Err(AcceptError::TooManyMembers {
                    max: limits.max_members,
                });
            }
            match parse_range(member) {
                Ok(range) => {
                    members += 1;
                    json.consider(&range, McpMediaType::Json);
                    event_stream.consider(&range, McpMediaType::EventStream);
                }
                Err(err) => {
                    malformed += 1;
                    first_error.get_or_insert(err);
                }
            }
        }
    }

    if members == 0 {
        return match first_error {
            Some(first) => Err(AcceptError::Malformed {
                count: malformed,
                first,
            }),
            None => Ok(Acceptance::ANY),
        };
    }
    Ok(Acceptance {
        json: json.quality(),
        event_stream: event_stream.quality(),
        members,
        malformed_members: malformed,
    })
}

/// One well-formed media range, reduced to what matching needs.
#[derive(Debug)]
struct Range<'a> {
    main_type: &'a str,
    subtype: &'a str,
    /// Media-type parameters before the weight.
    param_count: usize,
    /// A `charset` other than UTF-8 appeared before the weight.
    foreign_charset: bool,
    quality: Quality,
}

/// How specific a matching range is; higher wins.
type Specificity = (u8, usize);

impl Range<'_> {
    fn specificity_for(&self, media_type: McpMediaType) -> Option<Specificity> {
        if self.foreign_charset {
            return None;
        }
        let (main_type, subtype) = media_type.type_and_subtype();
        if self.main_type == "*" {
            return Some((0, self.param_count));
        }
        if !self.main_type.eq_ignore_ascii_case(main_type) {
            return None;
        }
        if self.subtype == "*" {
            return Some((1, self.param_count));
        }
        self.subtype
            .eq_ignore_ascii_case(subtype)
            .then_some((2, self.param_count))
    }
}

/// The most specific range seen so far for one media type.
#[derive(Debug, Default)]
struct Best {
    found: Option<(Specificity, Quality)>,
}

impl Best {
    fn consider(&mut self, range: &Range<'_>, media_type: McpMediaType) {
        let Some(specificity) = range.specificity_for(media_type) else {
            return;
        };
        let candidate = (specificity, range.quality);
        self.found = Some(match self.found {
            None => candidate,
            Some(current) if specificity > current.0 => candidate,
            Some(current) if specificity == current.0 => {
                (specificity, current.1.min(range.quality))
            }
            Some(current) => current,
        });
    }

    /// No matching range means the client did not list the type: not acceptable.
    fn quality(&self) -> Quality {
        self.found.map_or(Quality::ZERO, |(_, quality)| quality)
    }
}

fn parse_range(member: &[u8]) -> Result<Range<'_>, AcceptMemberError> {
    let mut cursor = Cursor::new(member);
    let (main_type, subtype) = cursor.type_and_subtype()?;
    if main_type == "*" && subtype != "*" {
        return Err(AcceptMemberError::InvalidRange {
            range: excerpt(member),
        });
    }
    let mut range = Range {
        main_type,
        subtype,
        param_count: 0,
        foreign_charset: false,
        quality: Quality::ONE,
    };
    let mut weight_seen = false;
    while let Some(param) = cursor.next_parameter()? {
        if weight_seen {
            // accept-ext (RFC 7231): ignored, and a bare name is allowed.
            continue;
        }
        let value = param.value.ok_or(MediaTypeError::MissingParameterValue {
            position: param.end,
        })?;
        if param.name.eq_ignore_ascii_case("q") {
            range.quality =
                Quality::parse(&value).ok_or_else(|| AcceptMemberError::InvalidWeight {
                    value: excerpt(&value),
                })?;
            weight_seen = true;
        } else {
            range.param_count += 1;
            if param.name.eq_ignore_ascii_case("charset") && !is_utf8_charset(&value) {
                range.foreign_charset = true;
            }
        }
    }
    Ok(range)
}

/// One row of the Accept table every MCP server should pass: the header lines a client
/// sends, and which answer types they allow. Shared by this crate's tests, the conformance
/// probes and the adapters' tests over real sockets (a POST gets 406 exactly when neither is
/// allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptRow {
    /// What the row shows.
    pub name: &'static str,
    /// The `Accept` header lines (none: the header is absent).
    pub lines: &'static [&'static str],
    /// Whether `application/json` may be answered.
    pub json: bool,
    /// Whether `text/event-stream` may be answered.
    pub event_stream: bool,
}

/// The rows other SDKs get wrong: 406 on wildcards, q=0 ignored, lookalikes accepted.
pub const ACCEPT_TABLE: &[AcceptRow] = &[
    row(
        "*/* (curl, httpx, browsers) is acceptable",
        &["*/*"],
        true,
        true,
    ),
    row("*/*;q=0.8 is acceptable", &["*/*;q=0.8"], true, true),
    row(
        "application/*, text/* is acceptable",
        &["application/*, text/*"],
        true,
        true,
    ),
    row(
        "media types are case-insensitive",
        &["Application/JSON, Text/Event-Stream"],
        true,
        true,
    ),
    row(
        "two Accept lines combine",
        &["application/json", "text/event-stream"],
        true,
        true,
    ),
    row(
        "application/json alone allows a JSON answer",
        &["application/json"],
        true,
        false,
    ),
    row(
        "a charset parameter is allowed",
        &["application/json; charset=\"utf-8\""],
        true,
        false,
    ),
    row(
        "application/json;q=0 refuses JSON",
        &["application/json;q=0, text/event-stream"],
        false,
        true,
    ),
    row(
        "a specific q=0 beats */*",
        &["application/json;q=0, */*"],
        false,
        true,
    ),
    row("*/*;q=0 refuses everything", &["*/*;q=0"], false, false),
    row("text/html is not acceptable", &["text/html"], false, false),
    row(
        "lookalike types are refused",
        &["application/jsonx, text/event-stream-bogus"],
        false,
        false,
    ),
    row("an absent Accept allows anything", &[], true, true),
    row("an empty Accept allows anything", &[""], true, true),
];

const fn row(
    name: &'static str,
    lines: &'static [&'static str],
    json: bool,
    event_stream: bool,
) -> AcceptRow {
    AcceptRow {
        name,
        lines,
        json,
        event_stream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected (json thousandths, event-stream thousandths).
    type Expected = (u16, u16);

    fn accept(lines: &[&str]) -> Result<Acceptance, AcceptError> {
        parse_accept(lines.iter().map(|line| line.as_bytes()))
    }

    /// The common values take a shortcut; it must answer what the parser answers, and only
    /// for a value alone on its line.
    #[test]
    fn common_values_parse_as_the_parser_does() {
        for value in COMMON_ACCEPT_VALUES {
            let parsed = parse_accept_with_limits([value], AcceptLimits::DEFAULT).unwrap();
            assert_eq!(common_acceptance(value), Some(parsed));
            assert_eq!(parse_accept([value]), Ok(parsed));
        }
        assert_eq!(
            common_acceptance(b"application/json, text/event-stream;q=0"),
            None
        );
        let json_only = parse_accept([&b"application/json"[..], b"text/event-stream;q=0"]).unwrap();
        assert!(json_only.accepts_json() && !json_only.accepts_event_stream());
    }

    #[test]
    fn the_shared_accept_table_holds() {
        for row in ACCEPT_TABLE {
            let acceptance = accept(row.lines).unwrap();
            assert_eq!(
                (acceptance.accepts_json(), acceptance.accepts_event_stream()),
                (row.json, row.event_stream),
                "{}",
                row.name
            );
        }
    }

    #[test]
    fn negotiates_required_rows() {
        let rows: &[(&[&str], Expected)] = &[
            (&["*/*"], (1000, 1000)),
            (&["*/*;q=0.8"], (800, 800)),
            (&["application/*, text/*"], (1000, 1000)),
            (&["Application/JSON, Text/Event-Stream"], (1000, 1000)),
            (&["application/json", "text/event-stream"], (1000, 1000)),
            (&["application/json, text/event-stream;q=0.5"], (1000, 500)),
            (&["application/json;q=0, text/event-stream"], (0, 1000)),
            (&["application/json;q=0, */*"], (0, 1000)),
            (&["*/*;q=0"], (0, 0)),
            (&["text/html"], (0, 0)),
            (&["application/jsonx"], (0, 0)),
            (&["text/event-stream-bogus"], (0, 0)),
            (&["application/jsonx, text/event-stream-bogus"], (0, 0)),
            (&["application/json; charset=\"utf-8\""], (1000, 0)),
            (&[], (1000, 1000)),
            (&[""], (1000, 1000)),
            (&["  \t "], (1000, 1000)),
            (&[",, ,"], (1000, 1000)),
            (&["", ""], (1000, 1000)),
        ];
        check_rows(rows);
    }

    #[test]
    fn negotiates_more_rows() {
        let rows: &[(&[&str], Expected)] = &[
            (&["application/json"], (1000, 0)),
            (&["text/event-stream"], (0, 1000)),
            (
                &["application/json;foo=\"a,b;c\", text/event-stream"],
                (1000, 1000),
            ),
            (
                &["application/json;foo=\"a\\\"b,c\";q=0.2, text/event-stream"],
                (200, 1000),
            ),
            (
                &["application/json;q=1.000, text/event-stream;q=0.001"],
                (1000, 1),
            ),
            (
                &["application/json;q=1., text/event-stream;q=0."],
                (1000, 0),
            ),
            (&["application/json;q=0.123"], (123, 0)),
            (&["application/json;q=1.5, text/event-stream"], (0, 1000)),
            (&["application/json;q=0.1234, text/event-stream"], (0, 1000)),
            (&["application/json;q=abc, text/event-stream"], (0, 1000)),
            (
                &["application/json;q=\"0.5\", text/event-stream"],
                (500, 1000),
            ),
            (&["application/json;charset=latin1"], (0, 0)),
            (&["application/json;charset=latin1, */*"], (1000, 1000)),
            (&["application/json;charset=UTF-8;q=0.3"], (300, 0)),
            (&["*/*;charset=iso-8859-1"], (0, 0)),
            (&["APPLICATION/*;Q=0.5"], (500, 0)),
            (
                &["application/*;q=0.5, application/json;q=0.7, */*;q=0.1"],
                (700, 100),
            ),
            (&["text/*;q=0, */*"], (1000, 0)),
            (
                &["application/json;q=0.5, application/json;q=0.9"],
                (500, 0),
            ),
            (
                &["application/json;v=1;q=0.2, application/json;q=0.9"],
                (200, 0),
            ),
            (&["application/json;q=0.5;ext;other=\"x\""], (500, 0)),
            (&["application/json;q=0.5;q=0.9"], (500, 0)),
            (
                &[" \t application/json \t ; \t q \t = \t 0.5 \t , \t text/event-stream\t"],
                (500, 1000),
            ),
            (&[",application/json,,text/event-stream,"], (1000, 1000)),
            (&["*/json, text/event-stream"], (0, 1000)),
            (&["application/json;charset, text/event-stream"], (0, 1000)),
            (&["application/json;q=0", "*/*"], (0, 1000)),
        ];
        check_rows(rows);
    }

    fn check_rows(rows: &[(&[&str], Expected)]) {
        for &(lines, (json, event_stream)) in rows {
            let acceptance = accept(lines).unwrap_or_else(|err| panic!("{lines:?}: {err}"));
            assert_eq!(
                (
                    acceptance.json().thousandths(),
                    acceptance.event_stream().thousandths()
                ),
                (json, event_stream),
                "{lines:?}"
            );
            assert_eq!(acceptance.accepts_json(), json > 0, "{lines:?}");
            assert_eq!(
                acceptance.accepts_event_stream(),
                event_stream > 0,
                "{lines:?}"
            );
        }
    }

    #[test]
    fn reports_preference() {
        let rows: &[(&str, Option<McpMediaType>)] = &[
            (
                "application/json, text/event-stream;q=0.5",
                Some(McpMediaType::Json),
            ),
            (
                "application/json;q=0.5, text/event-stream",
                Some(McpMediaType::EventStream),
            ),
            ("application/json, text/event-stream", None),
            ("*/*", None),
            ("text/html", None),
            ("text/event-stream", Some(McpMediaType::EventStream)),
        ];
        for &(line, expected) in rows {
            assert_eq!(
                accept(&[line]).map(|a| a.preferred()),
                Ok(expected),
                "{line}"
            );
        }
    }

    #[test]
    fn counts_members() {
        let rows: &[(&str, usize, usize)] = &[
            ("application/json, text/event-stream", 2, 0),
            ("application/json, */json, a/b;q=2", 1, 2),
            ("", 0, 0),
        ];
        for &(line, members, malformed) in rows {
            let acceptance = accept(&[line]).unwrap();
            assert_eq!(
                (acceptance.members(), acceptance.malformed_members()),
                (members, malformed),
                "{line}"
            );
        }
    }

    #[test]
    fn rejects_unusable_fields() {
        let many = vec!["a/b"; 65].join(",");
        let long = format!("application/json;x=\"{}\"", "y".repeat(8200));
        let rows: Vec<(Vec<&str>, AcceptError)> = vec![
            (
                vec![";;;,,"],
                AcceptError::Malformed {
                    count: 1,
                    first: AcceptMemberError::Syntax(MediaTypeError::InvalidType { position: 0 }),
                },
            ),
            (
                vec!["*/json"],
                AcceptError::Malformed {
                    count: 1,
                    first: AcceptMemberError::InvalidRange {
                        range: "*/json".into(),
                    },
                },
            ),
            (
                vec!["application/json;q=2", "text/html;q=x"],
                AcceptError::Malformed {
                    count: 2,
                    first: AcceptMemberError::InvalidWeight { value: "2".into() },
                },
            ),
            (
                vec!["application/json;foo=\"open, text/event-stream"],
                AcceptError::Malformed {
                    count: 1,
                    first: AcceptMemberError::Syntax(MediaTypeError::UnterminatedQuotedString {
                        position: 21,
                    }),
                },
            ),
            (vec![many.as_str()], AcceptError::TooManyMembers { max: 64 }),
            (vec![long.as_str()], AcceptError::TooLong { max: 8192 }),
        ];
        for (lines, expected) in rows {
            assert_eq!(accept(&lines), Err(expected));
        }
    }

    #[test]
    fn limits_count_empty_lines_and_members() {
        let empty_lines = std::iter::repeat_n(&b""[..], 10);
        let limits = AcceptLimits::DEFAULT.with_max_field_bytes(5);
        assert_eq!(
            parse_accept_with_limits(empty_lines, limits),
            Err(AcceptError::TooLong { max: 5 })
        );
        let limits = AcceptLimits::default().with_max_members(2);
        assert_eq!(
            parse_accept_with_limits([&b"a/b, c/d, e/f"[..]], limits),
            Err(AcceptError::TooManyMembers { max: 2 })
        );
        assert!(parse_accept_with_limits([&b"a/b,,,, c/d"[..]], limits).is_ok());
    }

    #[test]
    fn parses_qvalues() {
        let rows: &[(&str, Option<u16>)] = &[
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.001", Some(1)),
            ("0.999", Some(999)),
            ("1", Some(1000)),
            ("1.", Some(1000)),
            ("1.000", Some(1000)),
            ("1.001", None),
            ("1.5", None),
            ("0.1234", None),
            ("2", None),
            ("", None),
            (".5", None),
            ("0,5", None),
            ("abc", None),
            ("-0", None),
        ];
        for &(input, expected) in rows {
            assert_eq!(
                Quality::parse(input.as_bytes()).map(Quality::thousandths),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn displays_values() {
        let rows: &[(String, &str)] = &[
            (Quality::ONE.to_string(), "1.000"),
            (
                Quality::from_thousandths(50)
                    .map(|q| q.to_string())
                    .unwrap_or_default(),
                "0.050",
            ),
            (McpMediaType::EventStream.to_string(), "text/event-stream"),
        ];
        for (got, expected) in rows {
            assert_eq!(got, expected);
        }
        assert_eq!(Quality::from_thousandths(1001), None);
    }
}
