//! Matching URIs against resource templates (RFC 6570): `{name}` matches one path segment
//! (no `/`, `?` or `#`), `{+name}` (reserved expansion) matches anything up to the next
//! literal. Values are percent-decoded. That covers how MCP servers use templates
//! (`file:///{+path}`, `users://{id}/profile`); other operators are refused when the
//! template is registered rather than matched wrongly.
//!
//! ```
//! use mcp_async::server::UriTemplate;
//!
//! let template = UriTemplate::parse("repo://{owner}/{name}/blob/{+path}").unwrap();
//! let vars = template.matches("repo://ada/engine/blob/src/main.rs").unwrap();
//! assert_eq!(vars["owner"], "ada");
//! assert_eq!(vars["path"], "src/main.rs");
//! assert!(template.matches("repo://ada/engine").is_none());
//! ```

use std::collections::BTreeMap;

/// The longest template accepted.
const MAX_TEMPLATE_LEN: usize = 4096;

/// Why a URI template cannot be used for matching.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriTemplateError {
    /// A `{` without its `}` (or the reverse).
    #[error("unbalanced braces in URI template {0:?}")]
    Unbalanced(String),
    /// An expression other than `{name}` or `{+name}`, or an invalid variable name.
    #[error("unsupported URI template expression {{{0}}} (only {{name}} and {{+name}})")]
    Unsupported(String),
    /// Two variables with no literal between them cannot be told apart.
    #[error("URI template {0:?} has two variables with nothing between them")]
    Adjacent(String),
    /// Longer than 4096 bytes.
    #[error("URI template longer than {MAX_TEMPLATE_LEN} bytes")]
    TooLong,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable { name: String, reserved: bool },
}

/// A parsed URI template, ready to match URIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    parts: Vec<Part>,
}

impl UriTemplate {
    /// Parses `template`.
    ///
    /// # Errors
    /// [`UriTemplateError`] for unbalanced braces, unsupported operators or adjacent
    /// variables.
    pub fn parse(template: &str) -> Result<Self, UriTemplateError> {
        if template.len() > MAX_TEMPLATE_LEN {
            return Err(UriTemplateError::TooLong);
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                Some(at) if rest.as_bytes().get(at) == Some(&b'}') => {
                    return Err(UriTemplateError::Unbalanced(template.to_owned()));
                }
                Some(at) => {
                    let (literal, expression) = rest.split_at(at);
                    if !literal.is_empty() {
                        parts.push(Part::Literal(literal.to_owned()));
                    }
                    let end = expression
                        .find('}')
                        .ok_or_else(|| UriTemplateError::Unbalanced(template.to_owned()))?;
                    let inner = expression.get(1..end).unwrap_or_default();
                    let (reserved, name) = match inner.strip_prefix('+') {
                        Some(name) => (true, name),
                        None => (false, inner),
                    };
                    let valid = !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
                    if !valid {
                        return Err(UriTemplateError::Unsupported(inner.to_owned()));
                    }
                    if matches!(parts.last(), Some(Part::Variable { .. })) {
                        return Err(UriTemplateError::Adjacent(template.to_owned()));
                    }
                    parts.push(Part::Variable {
                        name: name.to_owned(),
                        reserved,
                    });
                    rest = expression.get(end + 1..).unwrap_or_default();
                }
                None => {
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        Ok(Self { parts })
    }

    /// The variables of `uri` when it matches the template.
    #[must_use]
    pub fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        let mut variables = BTreeMap::new();
        let mut rest = uri;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(literal) => rest = rest.strip_prefix(literal.as_str())?,
                Part::Variable { name, reserved } => {
                    // The value runs to the next literal (the first occurrence: a simple
                    // variable cannot contain `/`, and a reserved one takes the shortest match
                    // so later literals still match), or to the end.
                    let end = match parts.peek() {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        _ => rest.len(),
                    };
                    let value = rest.get(..end)?;
                    if value.is_empty() || (!reserved && value.contains(['/', '?', '#'])) {
                        return None;
                    }
                    variables.insert(name.clone(), percent_decode(value)?);
                    rest = rest.get(end..)?;
                }
            }
        }
        rest.is_empty().then_some(variables)
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    String::from_utf8(crate::percent::percent_decode(value)?).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn simple_variables_match_one_segment_and_are_decoded() {
        let template = UriTemplate::parse("users://{id}/profile").unwrap();
        assert_eq!(
            template.matches("users://a%20b/profile").unwrap()["id"],
            "a b"
        );
        assert!(template.matches("users://a/b/profile").is_none());
        assert!(template.matches("users:///profile").is_none(), "empty");
        assert!(
            template.matches("users://a/profile/x").is_none(),
            "trailing"
        );
        assert!(
            template.matches("users://%zz/profile").is_none(),
            "bad escape"
        );
    }

    #[test]
    fn reserved_variables_span_segments() {
        let template = UriTemplate::parse("file:///{+path}").unwrap();
        assert_eq!(
            template.matches("file:///src/lib.rs").unwrap()["path"],
            "src/lib.rs"
        );
        let literal_only = UriTemplate::parse("demo://readme").unwrap();
        assert!(literal_only.matches("demo://readme").unwrap().is_empty());
    }

    #[test]
    fn unsupported_templates_are_refused() {
        for (template, expected) in [
            ("a://{x", UriTemplateError::Unbalanced("a://{x".into())),
            ("a://x}", UriTemplateError::Unbalanced("a://x}".into())),
            ("a://{?q}", UriTemplateError::Unsupported("?q".into())),
            ("a://{}", UriTemplateError::Unsupported(String::new())),
            (
                "a://{x}{y}",
                UriTemplateError::Adjacent("a://{x}{y}".into()),
            ),
        ] {
            assert_eq!(UriTemplate::parse(template), Err(expected), "{template}");
        }
    }
}
