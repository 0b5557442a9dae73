//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1): parsing, the Bearer view (RFC 6750 §3,
//! RFC 9728 §5.1), and an encoder for the resource-server side.
//!
//! A field value holds a comma-separated list of challenges, and a response may carry several
//! field lines; [`parse_challenges`] takes them all. Each challenge is a scheme (a token,
//! compared without case) followed by either a `token68` or a list of `name=value` parameters
//! whose value is a token or a quoted-string with backslash escapes; parameter names are
//! compared without case too. Empty list elements and optional whitespace are accepted
//! anywhere the grammar allows them. Work is bounded by [`ChallengeLimits`] and no input makes
//! the parser panic.
//!
//! ```
//! use mcp_proto::auth::challenge::{BearerChallenge, parse_challenges};
//!
//! let header = r#"Basic realm="x", Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#;
//! let challenges = parse_challenges([header]).unwrap();
//! let bearer = BearerChallenge::find(&challenges).unwrap();
//! assert_eq!(bearer.error.as_deref(), Some("insufficient_scope"));
//! assert_eq!(bearer.scope.as_ref().unwrap().iter().collect::<Vec<_>>(), ["files:read", "files:write"]);
//!
//! // The resource server's side: the same challenge, encoded.
//! let emitted = bearer.to_challenge().unwrap().to_string();
//! assert_eq!(BearerChallenge::find(&parse_challenges([emitted.as_str()]).unwrap()).unwrap(), bearer);
//! ```

use std::fmt;

use super::scope::ScopeSet;

/// Bounds on what [`parse_challenges_with_limits`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeLimits {
    /// Total bytes over all field lines.
    pub max_bytes: usize,
    /// Challenges over all field lines.
    pub max_challenges: usize,
    /// Parameters in one challenge.
    pub max_params: usize,
}

impl Default for ChallengeLimits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024,
            max_challenges: 16,
            max_params: 32,
        }
    }
}

/// Why a `WWW-Authenticate` value (or a challenge to encode) was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// More bytes than [`ChallengeLimits::max_bytes`].
    #[error("WWW-Authenticate is {len} bytes, more than {max}")]
    TooLong {
        /// The total length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More challenges than [`ChallengeLimits::max_challenges`].
    #[error("more than {max} challenges")]
    TooManyChallenges {
        /// The limit.
        max: usize,
    },
    /// More parameters in one challenge than [`ChallengeLimits::max_params`].
    #[error("more than {max} parameters in one challenge")]
    TooManyParams {
        /// The limit.
        max: usize,
    },
    /// Something the grammar does not allow, at this byte offset of that field line.
    #[error("malformed challenge at byte {position} of field line {line}: {reason}")]
    Syntax {
        /// The 0-based field line.
        line: usize,
        /// The byte offset in it.
        position: usize,
        /// What was expected.
        reason: &'static str,
    },
    /// A parameter appears twice in one challenge (RFC 9110: each name at most once).
    #[error("parameter {0:?} appears twice in one challenge")]
    DuplicateParam(String),
    /// A quoted-string that is not UTF-8.
    #[error("a parameter value is not UTF-8")]
    NotUtf8,
    /// A scheme or parameter name that is not a token (when building a challenge).
    #[error("{0:?} is not a token")]
    NotAToken(String),
    /// A value a quoted-string cannot carry (control characters other than tab).
    #[error("parameter {0:?} has a value with control characters")]
    UnencodableValue(String),
    /// A token68 with characters outside its alphabet (when building a challenge).
    #[error("{0:?} is not a token68")]
    NotAToken68(String),
}

/// The credentials part of a challenge after its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeData {
    /// A `token68` (e.g. a base64 blob).
    Token68(String),
    /// Parameters, in order; values are unescaped. Possibly empty.
    Params(Vec<(String, String)>),
}

/// One authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    scheme: String,
    data: ChallengeData,
}

impl Challenge {
    /// A challenge with parameters (an empty list gives a bare scheme).
    ///
    /// # Errors
    /// A scheme or name that is not a token, a repeated name, or a value with control
    /// characters other than tab.
    pub fn with_params<N, V>(
        scheme: &str,
        params: impl IntoIterator<Item = (N, V)>,
    ) -> Result<Self, ChallengeError>
    where
        N: Into<String>,
        V: Into<String>,
    {
        check_token(scheme)?;
        let mut list: Vec<(String, String)> = Vec::new();
        for (name, value) in params {
            let (name, value) = (name.into(), value.into());
            check_token(&name)?;
            if value
                .bytes()
                .any(|byte| byte.is_ascii_control() && byte != b'\t')
            {
                return Err(ChallengeError::UnencodableValue(name));
            }
            if list
                .iter()
                .any(|(seen, _)| seen.eq_ignore_ascii_case(&name))
            {
                return Err(ChallengeError::DuplicateParam(name));
            }
            list.push((name, value));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            data: ChallengeData::Params(list),
        })
    }

    /// A challenge carrying a token68.
    ///
    /// # Errors
    /// A scheme that is not a token, or a value outside the token68 alphabet.
    pub fn with_token68(scheme: &str, token68: &str) -> Result<Self, ChallengeError> {
        check_token(scheme)?;
        if !is_token68(token68.as_bytes()) {
            return Err(ChallengeError::NotAToken68(token68.to_owned()));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            data: ChallengeData::Token68(token68.to_owned()),
        })
    }

    /// The scheme as written.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Whether the scheme is `scheme`, ignoring case.
    pub fn is_scheme(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The token68 or parameters.
    pub const fn data(&self) -> &ChallengeData {
        &self.data
    }

    /// The value of parameter `name` (ignoring case), if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        match &self.data {
            ChallengeData::Params(params) => params
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str()),
            ChallengeData::Token68(_) => None,
        }
    }
}

impl fmt::Display for Challenge {
    /// The challenge as it goes in a field value: the scheme, then the token68 or the
    /// parameters, every value as a quoted-string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        match &self.data {
            ChallengeData::Token68(token) => write!(f, " {token}"),
            ChallengeData::Params(params) => {
                for (index, (name, value)) in params.iter().enumerate() {
                    f.write_str(if index == 0 { " " } else { ", " })?;
                    write!(f, "{name}=\"")?;
                    for c in value.chars() {
                        if c == '"' || c == '\\' {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                    f.write_str("\"")?;
                }
                Ok(())
            }
        }
    }
}

/// Encodes challenges as one field value, separated by `, `.
pub fn encode_challenges(challenges: &[Challenge]) -> String {
    challenges
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses every field line of `WWW-Authenticate` with the default [`ChallengeLimits`].
///
/// # Errors
/// See [`ChallengeError`].
pub fn parse_challenges<I>(lines: I) -> Result<Vec<Challenge>, ChallengeError>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    parse_challenges_with_limits(lines, &ChallengeLimits::default())
}

/// Parses every field line of `WWW-Authenticate` within `limits`.
///
/// # Errors
/// See [`ChallengeError`].
pub fn parse_challenges_with_limits<I>(
    lines: I,
    limits: &ChallengeLimits,
) -> Result<Vec<Challenge>, ChallengeError>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut challenges = Vec::new();
    let mut total = 0_usize;
    for (line, value) in lines.into_iter().enumerate() {
        let value = value.as_ref();
        total = total.saturating_add(value.len());
        if total > limits.max_bytes {
            return Err(ChallengeError::TooLong {
                len: total,
                max: limits.max_bytes,
            });
        }
        Parser {
            bytes: value,
            position: 0,
            line,
            limits,
        }
        .challenges(&mut challenges)?;
    }
    Ok(challenges)
}

struct Parser<'a, 'l> {
    bytes: &'a [u8],
    position: usize,
    line: usize,
    limits: &'l ChallengeLimits,
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.position + offset).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.position += 1;
        }
    }

    fn error(&self, reason: &'static str) -> ChallengeError {
        ChallengeError::Syntax {
            line: self.line,
            position: self.position,
            reason,
        }
    }

    /// Skips whitespace and empty list elements; returns whether anything is left.
    fn skip_separators(&mut self) -> bool {
        loop {
            self.skip_ows();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(_) => return true,
                None => return false,
            }
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.position;
        while self.peek().is_some_and(is_tchar) {
            self.position += 1;
        }
        self.bytes
            .get(start..self.position)
            .filter(|token| !token.is_empty())
            .map(|token| String::from_utf8_lossy(token).into_owned())
    }

    fn challenges(&mut self, out: &mut Vec<Challenge>) -> Result<(), ChallengeError> {
        while self.skip_separators() {
            if out.len() == self.limits.max_challenges {
                return Err(ChallengeError::TooManyChallenges {
                    max: self.limits.max_challenges,
                });
            }
            let challenge = self.challenge()?;
            out.push(challenge);
        }
        Ok(())
    }

    /// One challenge; leaves the position at the end or at the `,` that ends it.
    fn challenge(&mut self) -> Result<Challenge, ChallengeError> {
        let scheme = self
            .token()
            .ok_or_else(|| self.error("expected a scheme"))?;
        let spaces = self.position;
        self.skip_ows();
        if self.position == spaces {
            // No space after the scheme: the challenge must end here.
            return match self.peek() {
                None | Some(b',') => Ok(Challenge {
                    scheme,
                    data: ChallengeData::Params(Vec::new()),
                }),
                Some(_) => Err(self.error("expected a space after the scheme")),
            };
        }
        if matches!(self.peek(), None | Some(b',')) {
            return Ok(Challenge {
                scheme,
                data: ChallengeData::Params(Vec::new()),
            });
        }
        if let Some(token68) = self.try_token68() {
            return Ok(Challenge {
                scheme,
                data: ChallengeData::Token68(token68),
            });
        }
        let mut params: Vec<(String, String)> = Vec::new();
        loop {
            let (name, value) = self.param()?;
            if params
                .iter()
                .any(|(seen, _)| seen.eq_ignore_ascii_case(&name))
            {
                return Err(ChallengeError::DuplicateParam(name));
            }
            if params.len() == self.limits.max_params {
                return Err(ChallengeError::TooManyParams {
                    max: self.limits.max_params,
                });
            }
            params.push((name, value));
            self.skip_ows();
            match self.peek() {
                None => break,
                Some(b',') => {
                    // Another parameter of this challenge, or the next challenge?
                    let resume = self.position;
                    let more = self.skip_separators() && self.at_param();
                    if !more {
                        self.position = resume;
                        break;
                    }
                }
                Some(_) => return Err(self.error("expected `,` after a parameter")),
            }
        }
        Ok(Challenge {
            scheme,
            data: ChallengeData::Params(params),
        })
    }

    /// Whether a `token BWS "="` starts here (an auth-param, not a new challenge).
    fn at_param(&self) -> bool {
        let mut offset = 0;
        while self.peek_at(offset).is_some_and(is_tchar) {
            offset += 1;
        }
        if offset == 0 {
            return false;
        }
        while matches!(self.peek_at(offset), Some(b' ' | b'\t')) {
            offset += 1;
        }
        self.peek_at(offset) == Some(b'=')
    }

    /// A token68 ending the challenge (followed by OWS and then `,` or the end), if one is here.
    fn try_token68(&mut self) -> Option<String> {
        let start = self.position;
        let mut end = start;
        while self.bytes.get(end).copied().is_some_and(is_token68_char) {
            end += 1;
        }
        if end == start {
            return None;
        }
        while self.bytes.get(end) == Some(&b'=') {
            end += 1;
        }
        let mut after = end;
        while matches!(self.bytes.get(after), Some(b' ' | b'\t')) {
            after += 1;
        }
        if !matches!(self.bytes.get(after), None | Some(b',')) {
            return None;
        }
        let token = String::from_utf8_lossy(self.bytes.get(start..end)?).into_owned();
        self.position = after;
        Some(token)
    }

    fn param(&mut self) -> Result<(String, String), ChallengeError> {
        let name = self
            .token()
            .ok_or_else(|| self.error("expected a parameter name"))?;
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Err(self.error("expected `=` after a parameter name"));
        }
        self.position += 1;
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            self.quoted_string()?
        } else {
            self.token()
                .ok_or_else(|| self.error("expected a token or quoted-string value"))?
        };
        Ok((name, value))
    }

    fn quoted_string(&mut self) -> Result<String, ChallengeError> {
        self.position += 1; // the opening quote
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated quoted-string")),
                Some(b'"') => {
                    self.position += 1;
                    break;
                }
                Some(b'\\') => match self.peek_at(1) {
                    Some(byte) if byte == b'\t' || byte == b' ' || !byte.is_ascii_control() => {
                        value.push(byte);
                        self.position += 2;
                    }
                    _ => return Err(self.error("invalid quoted-pair")),
                },
                Some(byte) if byte == b'\t' || !byte.is_ascii_control() => {
                    value.push(byte);
                    self.position += 1;
                }
                Some(_) => return Err(self.error("control character in quoted-string")),
            }
        }
        String::from_utf8(value).map_err(|_| ChallengeError::NotUtf8)
    }
}

/// RFC 9110 `tchar`.
const fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// The characters of a token68 before its trailing `=`s.
const fn is_token68_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

fn is_token68(bytes: &[u8]) -> bool {
    let body = bytes
        .iter()
        .take_while(|byte| is_token68_char(**byte))
        .count();
    body > 0 && bytes.iter().skip(body).all(|byte| *byte == b'=')
}

fn check_token(value: &str) -> Result<(), ChallengeError> {
    if !value.is_empty() && value.bytes().all(is_tchar) {
        Ok(())
    } else {
        Err(ChallengeError::NotAToken(value.to_owned()))
    }
}

/// The parameters of a `Bearer` challenge that OAuth and MCP use (RFC 6750 §3, RFC 9728 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BearerChallenge {
    /// `realm`.
    pub realm: Option<String>,
    /// `error`: `invalid_request`, `invalid_token`, `insufficient_scope`, …
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `error_uri`.
    pub error_uri: Option<String>,
    /// `scope`: the scopes the resource needs (space-separated on the wire).
    pub scope: Option<ScopeSet>,
    /// `resource_metadata`: where the Protected Resource Metadata lives (RFC 9728 §5.1).
    pub resource_metadata: Option<String>,
}

/// The `error` value of a 403 that asks for more scopes.
pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";
/// The `error` value of a 401 for a missing, expired or revoked token.
pub const INVALID_TOKEN: &str = "invalid_token";

impl BearerChallenge {
    /// The first `Bearer` challenge among `challenges`, read as a [`BearerChallenge`].
    ///
    /// A `scope` that is not a valid scope list is dropped rather than failing the whole
    /// challenge (the other parameters are still useful).
    pub fn find(challenges: &[Challenge]) -> Option<Self> {
        challenges
            .iter()
            .find(|challenge| challenge.is_scheme("Bearer"))
            .map(Self::from_challenge)
    }

    /// The first `Bearer` challenge, else the first `DPoP` one (RFC 9449 §7.1 gives `DPoP`
    /// challenges the same parameters: a server issuing DPoP-bound tokens may name only that
    /// scheme), read as a [`BearerChallenge`].
    pub fn find_oauth(challenges: &[Challenge]) -> Option<Self> {
        Self::find(challenges).or_else(|| {
            challenges
                .iter()
                .find(|challenge| challenge.is_scheme(super::dpop::DPOP))
                .map(Self::from_challenge)
        })
    }

    /// Reads a challenge's Bearer parameters (whatever its scheme).
    pub fn from_challenge(challenge: &Challenge) -> Self {
        let owned = |name: &str| challenge.param(name).map(str::to_owned);
        Self {
            realm: owned("realm"),
            error: owned("error"),
            error_description: owned("error_description"),
            error_uri: owned("error_uri"),
            scope: challenge
                .param("scope")
                .and_then(|scope| ScopeSet::parse(scope).ok()),
            resource_metadata: owned("resource_metadata"),
        }
    }

    /// Whether `error` is `insufficient_scope`.
    pub fn is_insufficient_scope(&self) -> bool {
        self.error.as_deref() == Some(INSUFFICIENT_SCOPE)
    }

    /// The challenge as the resource server sends it: `Bearer` with the present parameters in
    /// the order realm, resource_metadata, scope, error, error_description, error_uri.
    ///
    /// # Errors
    /// A value with control characters.
    pub fn to_challenge(&self) -> Result<Challenge, ChallengeError> {
        let scope = self.scope.as_ref().map(ScopeSet::to_string);
        let params = [
            ("realm", self.realm.as_deref()),
            ("resource_metadata", self.resource_metadata.as_deref()),
            ("scope", scope.as_deref()),
            ("error", self.error.as_deref()),
            ("error_description", self.error_description.as_deref()),
            ("error_uri", self.error_uri.as_deref()),
        ];
        Challenge::with_params(
            "Bearer",
            params
                .into_iter()
                .filter_map(|(name, value)| value.map(|value| (name, value))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Vec<Challenge> {
        parse_challenges([value]).unwrap()
    }

    fn params(pairs: &[(&str, &str)]) -> ChallengeData {
        ChallengeData::Params(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn the_conformance_mock_challenges() {
        let challenges = parse(
            r#"Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="http://localhost:3000/.well-known/oauth-protected-resource/mcp""#,
        );
        let bearer = BearerChallenge::find(&challenges).unwrap();
        assert_eq!(bearer.error.as_deref(), Some(INVALID_TOKEN));
        assert_eq!(
            bearer.resource_metadata.as_deref(),
            Some("http://localhost:3000/.well-known/oauth-protected-resource/mcp")
        );
        let challenges = parse(
            r#"Bearer scope="mcp:basic mcp:write", resource_metadata="http://x/y", error="insufficient_scope""#,
        );
        let bearer = BearerChallenge::find(&challenges).unwrap();
        assert!(bearer.is_insufficient_scope());
        assert_eq!(bearer.scope.unwrap().to_string(), "mcp:basic mcp:write");
    }

    #[test]
    fn several_challenges_and_lines() {
        let challenges = parse_challenges([
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
            "Negotiate abc+/=, Bearer",
        ])
        .unwrap();
        assert_eq!(challenges.len(), 4);
        assert_eq!(challenges[0].scheme(), "Newauth");
        assert_eq!(
            challenges[0].data(),
            &params(&[
                ("realm", "apps"),
                ("type", "1"),
                ("title", "Login to \"apps\"")
            ])
        );
        assert_eq!(challenges[1].param("REALM"), Some("simple"));
        assert_eq!(
            challenges[2].data(),
            &ChallengeData::Token68("abc+/=".to_owned())
        );
        assert!(challenges[3].is_scheme("bearer"));
        assert_eq!(challenges[3].data(), &ChallengeData::Params(Vec::new()));
    }

    #[test]
    fn odd_spacing_commas_and_case() {
        let challenges =
            parse(" ,, bEaReR   Realm = \"a,b\" ,, , ScOpE=read\t,error =  \"x\\\\y\" ,  basic , ");
        assert_eq!(challenges.len(), 2);
        let bearer = BearerChallenge::find(&challenges).unwrap();
        assert_eq!(bearer.realm.as_deref(), Some("a,b"));
        assert_eq!(bearer.error.as_deref(), Some("x\\y"));
        assert_eq!(bearer.scope.unwrap().to_string(), "read");
        assert!(challenges[1].is_scheme("Basic"));
        assert!(parse("").is_empty());
        assert!(parse(" , ,").is_empty());
    }

    #[test]
    fn token68_versus_params() {
        assert_eq!(
            parse("Basic realm=")[0].data(),
            &ChallengeData::Token68("realm=".to_owned())
        );
        assert_eq!(parse("Basic a=b")[0].data(), &params(&[("a", "b")]));
        assert_eq!(
            parse("X abc==, Y d=\"e\"")[1].data(),
            &params(&[("d", "e")])
        );
        assert_eq!(parse("Bearer a=\"1\", b=2, Other")[1].scheme(), "Other");
    }

    #[test]
    fn escapes_in_quoted_strings() {
        let challenges = parse(r#"Bearer error_description="say \"hi\" \\ \q""#);
        assert_eq!(
            challenges[0].param("error_description"),
            Some(r#"say "hi" \ q"#)
        );
        let utf8 = parse("Bearer error_description=\"caf\u{e9}\"");
        assert_eq!(utf8[0].param("error_description"), Some("caf\u{e9}"));
    }

    #[test]
    fn malformed_values_are_typed_errors() {
        for bad in [
            "Bearer realm=\"unterminated",
            "Bearer =x",
            "Bearer a=b c",
            "Bearer a=\"x\" b=\"y\"",
            "Bearer a=\"x\"\"",
            "Bearer\"",
            "Bearer a=\"\\\u{1}\"",
            "Bearer a=\"\u{7f}\"",
            "\"Bearer\"",
        ] {
            assert!(
                matches!(parse_challenges([bad]), Err(ChallengeError::Syntax { .. })),
                "{bad:?} gave {:?}",
                parse_challenges([bad])
            );
        }
        assert_eq!(
            parse_challenges(["Bearer a=1, A=2"]),
            Err(ChallengeError::DuplicateParam("A".to_owned()))
        );
        assert_eq!(
            parse_challenges([&b"Bearer a=\"\xff\""[..]]),
            Err(ChallengeError::NotUtf8)
        );
    }

    #[test]
    fn limits_bound_the_work() {
        let limits = ChallengeLimits {
            max_bytes: 64,
            max_challenges: 2,
            max_params: 2,
        };
        assert!(matches!(
            parse_challenges_with_limits(["a", "b", "c"], &limits),
            Err(ChallengeError::TooManyChallenges { max: 2 })
        ));
        assert!(matches!(
            parse_challenges_with_limits(["Bearer a=1, b=2, c=3"], &limits),
            Err(ChallengeError::TooManyParams { max: 2 })
        ));
        assert!(matches!(
            parse_challenges_with_limits([&"x".repeat(40), &"y".repeat(40)], &limits),
            Err(ChallengeError::TooLong { len: 80, max: 64 })
        ));
    }

    #[test]
    fn bearer_round_trip_for_the_resource_server() {
        let challenge = BearerChallenge {
            resource_metadata: Some(
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp".to_owned(),
            ),
            scope: Some(ScopeSet::parse("files:read files:write").unwrap()),
            error: Some(INSUFFICIENT_SCOPE.to_owned()),
            ..BearerChallenge::default()
        };
        assert_eq!(
            challenge.to_challenge().unwrap().to_string(),
            "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", scope=\"files:read files:write\", error=\"insufficient_scope\""
        );
        let with_quotes = BearerChallenge {
            error_description: Some("a \"b\" \\c".to_owned()),
            ..BearerChallenge::default()
        };
        let encoded = with_quotes.to_challenge().unwrap().to_string();
        assert_eq!(encoded, r#"Bearer error_description="a \"b\" \\c""#);
        assert_eq!(
            BearerChallenge::find(&parse(&encoded)).unwrap(),
            with_quotes
        );
        let bad = BearerChallenge {
            error_description: Some("line\nbreak".to_owned()),
            ..BearerChallenge::default()
        };
        assert!(matches!(
            bad.to_challenge(),
            Err(ChallengeError::UnencodableValue(_))
        ));
    }

    #[test]
    fn builders_validate() {
        assert!(Challenge::with_params("Bad Scheme", [("a", "b")]).is_err());
        assert!(Challenge::with_params("Bearer", [("a b", "c")]).is_err());
        assert!(Challenge::with_params("Bearer", [("a", "1"), ("A", "2")]).is_err());
        assert!(Challenge::with_token68("Basic", "a=b").is_err());
        assert!(Challenge::with_token68("Basic", "").is_err());
        assert_eq!(
            Challenge::with_token68("Basic", "YWxhZGRpbjpvcGVuc2VzYW1l==")
                .unwrap()
                .to_string(),
            "Basic YWxhZGRpbjpvcGVuc2VzYW1l=="
        );
        let list = [
            Challenge::with_params("A", [("x", "1")]).unwrap(),
            Challenge::with_params::<&str, &str>("B", []).unwrap(),
        ];
        assert_eq!(encode_challenges(&list), "A x=\"1\", B");
        assert_eq!(parse_challenges([encode_challenges(&list)]).unwrap(), list);
    }
}
