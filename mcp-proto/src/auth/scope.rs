//! Scopes: the ordered set type and the MCP selection rules (spec-checklist §8 "Scopes").
//!
//! * **Initial request** ([`select_scopes`]): the `scope` of the 401 challenge when it has one
//!   (challenge scopes are authoritative); otherwise every entry of the Protected Resource
//!   Metadata's `scopes_supported`; otherwise no `scope` parameter at all, so the authorization
//!   server applies its default.
//! * **Step-up** ([`step_up_scopes`]): on 403 `insufficient_scope`, the union of what was asked
//!   before and what the challenge names. How many times this may happen is the flow's business
//!   ([`OAuthClientConfig::max_authorization_attempts`](super::OAuthClientConfig)).
//! * **`offline_access`** is never taken from the resource server (its challenges and metadata
//!   should not name it): it is removed from what the server asked for, and added back only when
//!   the client wants refresh tokens, the authorization server lists it in `scopes_supported`,
//!   and some other scope is being requested (adding it to an otherwise omitted `scope` would
//!   replace the server's default scope with `offline_access` alone).
//!
//! ```
//! use mcp_proto::auth::scope::{ScopeSet, select_scopes, step_up_scopes};
//!
//! let supported = vec!["mcp:basic".to_owned(), "mcp:read".to_owned()];
//! let first = select_scopes(None, Some(&supported), None, true);
//! assert_eq!(first.to_string(), "mcp:basic mcp:read");
//! let asked = ScopeSet::parse("mcp:write").unwrap();
//! assert_eq!(step_up_scopes(&first, Some(&asked), None, true).to_string(), "mcp:basic mcp:read mcp:write");
//! ```

use std::fmt;

/// The scope that asks for a refresh token (OpenID Connect Core §11).
pub const OFFLINE_ACCESS: &str = "offline_access";
/// The most scopes a [`ScopeSet`] holds.
pub const MAX_SCOPES: usize = 64;
/// The longest single scope, in bytes.
pub const MAX_SCOPE_LEN: usize = 512;

/// Why a scope (list) was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// A scope with a character outside RFC 6749 §3.3 `scope-token` (`%x21 / %x23-5B / %x5D-7E`).
    #[error("invalid scope {0:?}")]
    Invalid(String),
    /// A scope longer than [`MAX_SCOPE_LEN`].
    #[error("scope of {len} bytes, more than {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More than [`MAX_SCOPES`] scopes.
    #[error("more than {max} scopes")]
    TooMany {
        /// The limit.
        max: usize,
    },
}

/// An ordered set of scopes: duplicates are dropped, the first spelling and position kept.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(Vec<String>);

impl ScopeSet {
    /// The empty set.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Parses a space-separated `scope` value (runs of spaces are tolerated).
    ///
    /// # Errors
    /// See [`ScopeError`].
    pub fn parse(value: &str) -> Result<Self, ScopeError> {
        Self::from_scopes(value.split(' ').filter(|scope| !scope.is_empty()))
    }

    /// Collects scopes.
    ///
    /// # Errors
    /// See [`ScopeError`].
    pub fn from_scopes<S: AsRef<str>>(
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<Self, ScopeError> {
        let mut set = Self::new();
        for scope in scopes {
            set.insert(scope.as_ref())?;
        }
        Ok(set)
    }

    /// Adds a scope; `Ok(false)` when it was already there.
    ///
    /// # Errors
    /// An invalid scope, or a set that is full.
    pub fn insert(&mut self, scope: &str) -> Result<bool, ScopeError> {
        check_scope(scope)?;
        if self.contains(scope) {
            return Ok(false);
        }
        if self.0.len() == MAX_SCOPES {
            return Err(ScopeError::TooMany { max: MAX_SCOPES });
        }
        self.0.push(scope.to_owned());
        Ok(true)
    }

    /// Removes a scope; whether it was there.
    pub fn remove(&mut self, scope: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|held| held != scope);
        before != self.0.len()
    }

    /// Whether `scope` is in the set (scopes are case-sensitive).
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|held| held == scope)
    }

    /// Whether every scope of `other` is in this set.
    pub fn is_superset_of(&self, other: &Self) -> bool {
        other.iter().all(|scope| self.contains(scope))
    }

    /// This set followed by the scopes of `other` it lacks (stops at [`MAX_SCOPES`]).
    pub fn union(&self, other: &Self) -> Self {
        let mut union = self.clone();
        for scope in other.iter() {
            if union.insert(scope).is_err() {
                break;
            }
        }
        union
    }

    /// The scopes in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// How many scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `scope` parameter value, or `None` when the parameter must be omitted.
    pub fn to_param(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.to_string())
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeSet({:?})", self.to_string())
    }
}

fn check_scope(scope: &str) -> Result<(), ScopeError> {
    if scope.len() > MAX_SCOPE_LEN {
        return Err(ScopeError::TooLong {
            len: scope.len(),
            max: MAX_SCOPE_LEN,
        });
    }
    let valid = !scope.is_empty()
        && scope.bytes().all(|byte| {
            byte == 0x21 || (0x23..=0x5b).contains(&byte) || (0x5d..=0x7e).contains(&byte)
        });
    if valid {
        Ok(())
    } else {
        Err(ScopeError::Invalid(scope.to_owned()))
    }
}

/// The valid scopes of a metadata `scopes_supported` list (invalid entries are skipped, the list
/// is cut at [`MAX_SCOPES`]).
fn supported(list: &[String]) -> ScopeSet {
    let mut set = ScopeSet::new();
    for scope in list {
        if matches!(set.insert(scope), Err(ScopeError::TooMany { .. })) {
            break;
        }
    }
    set
}

/// Applies the `offline_access` rule to what the resource server asked for.
fn with_offline_rule(
    mut scopes: ScopeSet,
    as_supported: Option<&[String]>,
    want_offline: bool,
) -> ScopeSet {
    scopes.remove(OFFLINE_ACCESS);
    let listed = as_supported.is_some_and(|list| list.iter().any(|scope| scope == OFFLINE_ACCESS));
    if want_offline && listed && !scopes.is_empty() {
        // Cannot fail: the scope is valid and a full set simply goes without it.
        let _ = scopes.insert(OFFLINE_ACCESS);
    }
    scopes
}

/// The scopes of a first authorization request.
///
/// `challenge` is the 401 challenge's `scope`, `resource_supported` the Protected Resource
/// Metadata's `scopes_supported`, `as_supported` the authorization server metadata's
/// `scopes_supported`, and `want_offline` whether the client would like a refresh token.
pub fn select_scopes(
    challenge: Option<&ScopeSet>,
    resource_supported: Option<&[String]>,
    as_supported: Option<&[String]>,
    want_offline: bool,
) -> ScopeSet {
    let base = match challenge.filter(|scopes| !scopes.is_empty()) {
        Some(scopes) => scopes.clone(),
        None => resource_supported.map(supported).unwrap_or_default(),
    };
    with_offline_rule(base, as_supported, want_offline)
}

/// The scopes of a step-up request after a 403 `insufficient_scope`: the union of the previous
/// request's scopes and the challenge's (with the `offline_access` rule applied again).
pub fn step_up_scopes(
    previous: &ScopeSet,
    challenge: Option<&ScopeSet>,
    as_supported: Option<&[String]>,
    want_offline: bool,
) -> ScopeSet {
    let union = match challenge {
        Some(asked) => previous.union(asked),
        None => previous.clone(),
    };
    with_offline_rule(union, as_supported, want_offline)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    fn list(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn parsing_keeps_order_and_drops_duplicates() {
        let scopes = set("  b a  b c ");
        assert_eq!(scopes.iter().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(scopes.to_param().as_deref(), Some("b a c"));
        assert_eq!(ScopeSet::new().to_param(), None);
        assert!(matches!(
            ScopeSet::parse("a \"b\""),
            Err(ScopeError::Invalid(_))
        ));
        assert!(matches!(
            ScopeSet::parse("a\\b"),
            Err(ScopeError::Invalid(_))
        ));
        assert!(matches!(
            ScopeSet::parse(&"x".repeat(MAX_SCOPE_LEN + 1)),
            Err(ScopeError::TooLong { .. })
        ));
        let many: Vec<String> = (0..=MAX_SCOPES).map(|n| format!("s{n}")).collect();
        assert!(matches!(
            ScopeSet::from_scopes(&many),
            Err(ScopeError::TooMany { .. })
        ));
    }

    #[test]
    fn challenge_scope_comes_first() {
        let chosen = select_scopes(
            Some(&set("mcp:basic")),
            Some(&list(&["mcp:basic", "mcp:read", "mcp:write"])),
            None,
            true,
        );
        assert_eq!(chosen.to_string(), "mcp:basic");
    }

    #[test]
    fn otherwise_all_resource_scopes_otherwise_none() {
        let all = list(&["mcp:basic", "mcp:read", "mcp:write"]);
        assert_eq!(
            select_scopes(None, Some(&all), None, true).to_string(),
            "mcp:basic mcp:read mcp:write"
        );
        assert_eq!(
            select_scopes(Some(&ScopeSet::new()), Some(&all), None, true).to_string(),
            "mcp:basic mcp:read mcp:write"
        );
        assert!(select_scopes(None, None, None, true).is_empty());
        assert!(select_scopes(None, Some(&[]), Some(&list(&[OFFLINE_ACCESS])), true).is_empty());
        // Invalid entries in metadata are skipped, not fatal.
        assert_eq!(
            select_scopes(None, Some(&list(&["ok", "not ok"])), None, true).to_string(),
            "ok"
        );
    }

    #[test]
    fn offline_access_only_when_the_authorization_server_lists_it() {
        let resource = list(&["mcp:basic"]);
        let with = list(&["mcp:basic", OFFLINE_ACCESS]);
        let without = list(&["mcp:basic", "mcp:read"]);
        assert_eq!(
            select_scopes(None, Some(&resource), Some(&with), true).to_string(),
            "mcp:basic offline_access"
        );
        assert_eq!(
            select_scopes(None, Some(&resource), Some(&without), true).to_string(),
            "mcp:basic"
        );
        assert_eq!(
            select_scopes(None, Some(&resource), Some(&with), false).to_string(),
            "mcp:basic"
        );
        // Never taken from the resource server.
        assert_eq!(
            select_scopes(
                Some(&set("mcp:basic offline_access")),
                None,
                Some(&without),
                true
            )
            .to_string(),
            "mcp:basic"
        );
        assert_eq!(
            select_scopes(None, Some(&list(&[OFFLINE_ACCESS, "a"])), None, true).to_string(),
            "a"
        );
    }

    #[test]
    fn step_up_is_the_union() {
        let before = set("mcp:basic");
        assert_eq!(
            step_up_scopes(&before, Some(&set("mcp:basic mcp:write")), None, true).to_string(),
            "mcp:basic mcp:write"
        );
        assert_eq!(step_up_scopes(&before, None, None, true), before);
        let with_offline = set("mcp:basic offline_access");
        assert_eq!(
            step_up_scopes(
                &with_offline,
                Some(&set("mcp:admin")),
                Some(&list(&[OFFLINE_ACCESS])),
                true
            )
            .to_string(),
            "mcp:basic mcp:admin offline_access"
        );
        let mut big = ScopeSet::new();
        for n in 0..MAX_SCOPES {
            big.insert(&format!("s{n}")).unwrap();
        }
        assert_eq!(big.union(&set("extra")).len(), MAX_SCOPES);
        assert!(big.is_superset_of(&set("s1 s2")));
        assert!(!big.is_superset_of(&set("s1 extra")));
    }
}
