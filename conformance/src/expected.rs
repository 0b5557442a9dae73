//! The expected-failures file: scenario runs known to fail (or warn), each with its reason.
//!
//! One entry a line, five whitespace-separated fields and an optional `# reason`:
//!
//! ```text
//! # side   harness          wire        runtime  scenario
//! server   0.2.0-alpha.12   2026-07-28  *        server-stateless   # why it fails
//! client   *                *           tokio    auth/metadata-var1 # …
//! ```
//!
//! `side` is `server` or `client`; `harness` a harness version; `wire` the spec version the
//! suite ran at (`all` for 0.1.16's plain `--suite all`, `extension` for the extension
//! scenarios); `runtime` `smol` or `tokio`. `*` matches anything. Blank lines and lines
//! starting with `#` are ignored.

use std::fmt;

/// Which suite a run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Side {
    Server,
    Client,
}

impl Side {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Client => "client",
        }
    }

    pub(crate) fn parse(field: &str) -> Option<Self> {
        match field {
            "server" => Some(Self::Server),
            "client" => Some(Self::Client),
            _ => None,
        }
    }
}

/// One scenario run, as entries name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunKey<'a> {
    pub(crate) side: Side,
    pub(crate) harness: &'a str,
    pub(crate) wire: &'a str,
    pub(crate) runtime: &'a str,
    pub(crate) scenario: &'a str,
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) line: usize,
    side: Side,
    harness: String,
    wire: String,
    runtime: String,
    scenario: String,
    pub(crate) reason: String,
}

impl Entry {
    /// A known intermittent failure (its reason starts with `intermittent:`): tolerated when
    /// it fails and not a stale entry when it passes, so a race we have diagnosed but not yet
    /// fixed neither hides behind a retry nor fails every other run.
    pub(crate) fn intermittent(&self) -> bool {
        self.reason.starts_with("intermittent:")
    }

    pub(crate) fn matches(&self, key: &RunKey<'_>) -> bool {
        let field = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        self.side == key.side
            && field(&self.harness, key.harness)
            && field(&self.wire, key.wire)
            && field(&self.runtime, key.runtime)
            && field(&self.scenario, key.scenario)
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = self.side.name();
        write!(
            f,
            "line {}: {side} {} {} {} {}",
            self.line, self.harness, self.wire, self.runtime, self.scenario
        )
    }
}

/// A line that is not an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) line: usize,
    pub(crate) problem: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// Parses the whole file; any bad line is an error (a typo must not hide a failure).
pub(crate) fn parse(text: &str) -> Result<Vec<Entry>, ParseError> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let (fields, reason) = match raw.split_once('#') {
            Some((fields, reason)) => (fields, reason.trim()),
            None => (raw, ""),
        };
        let fields: Vec<&str> = fields.split_whitespace().collect();
        let [side, harness, wire, runtime, scenario] = fields.as_slice() else {
            if fields.is_empty() {
                continue;
            }
            return Err(ParseError {
                line,
                problem: format!(
                    "expected 5 fields (side harness wire runtime scenario), found {}",
                    fields.len()
                ),
            });
        };
        let side = Side::parse(side).ok_or_else(|| ParseError {
            line,
            problem: format!("side {side:?} is neither server nor client"),
        })?;
        entries.push(Entry {
            line,
            side,
            harness: (*harness).to_owned(),
            wire: (*wire).to_owned(),
            runtime: (*runtime).to_owned(),
            scenario: (*scenario).to_owned(),
            reason: reason.to_owned(),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn entries_match_with_wildcards_and_bad_lines_are_refused() {
        let entries = parse(
            "# a comment\n\nserver 0.2.0-alpha.12 2026-07-28 * caching # no reason\n\
             client * * tokio auth/metadata-var1\n",
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].reason, "no reason");
        let key = RunKey {
            side: Side::Server,
            harness: "0.2.0-alpha.12",
            wire: "2026-07-28",
            runtime: "smol",
            scenario: "caching",
        };
        assert!(entries[0].matches(&key));
        assert!(!entries[1].matches(&key));
        let other_wire = RunKey {
            wire: "2025-11-25",
            ..key
        };
        assert!(!entries[0].matches(&other_wire));
        assert_eq!(parse("server 0.1.16 all smol\n").unwrap_err().line, 1);
        assert!(parse("both * * * x\n").is_err());
        assert!(!entries[0].intermittent());
        let flaky = parse("client * * tokio x # intermittent: a race\n").unwrap();
        assert!(flaky[0].intermittent());
    }
}
