//! Token bookkeeping and wall-clock mapping, which need real `Instant`s.

// The scripted servers and strategies are test scaffolding: a broken expectation there must
// stop the test, exactly as inside a #[test] function.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use mcp_proto::auth::jwt::WallClock;
use mcp_proto::auth::token::{MAX_TOKEN_LIFETIME, TokenResponse, read_token_response};
use mcp_proto::auth::{ScopeSet, Secret, TokenSet};

fn response(json: &str) -> TokenResponse {
    read_token_response(200, json.as_bytes(), 4096).unwrap()
}

#[test]
fn expiry_is_counted_from_the_response() {
    let now = Instant::now();
    let requested = ScopeSet::parse("mcp:basic mcp:write").unwrap();
    let tokens = TokenSet::from_response(
        now,
        response(
            r#"{"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":"r"}"#,
        ),
        &requested,
        None,
    );
    assert_eq!(tokens.expires_at, Some(now + Duration::from_secs(3600)));
    assert_eq!(tokens.refresh_token, Some(Secret::from("r")));
    // No `scope` in the response: the requested scopes were granted (RFC 6749 §5.1).
    assert_eq!(tokens.scopes, requested);
    let margin = Duration::from_secs(30);
    assert!(tokens.is_fresh(now + Duration::from_secs(3569), margin));
    assert!(!tokens.is_fresh(now + Duration::from_secs(3570), margin));
    assert!(!tokens.is_fresh(now + Duration::from_secs(7200), Duration::ZERO));
}

#[test]
fn granted_scopes_and_kept_refresh_tokens() {
    let now = Instant::now();
    let tokens = TokenSet::from_response(
        now,
        response(r#"{"access_token":"a","token_type":"Bearer","scope":"mcp:basic"}"#),
        &ScopeSet::parse("mcp:basic mcp:write").unwrap(),
        Some(Secret::from("old-refresh")),
    );
    assert_eq!(tokens.scopes.to_string(), "mcp:basic");
    assert_eq!(tokens.expires_at, None);
    assert!(tokens.is_fresh(
        now + Duration::from_secs(1_000_000),
        Duration::from_secs(30)
    ));
    // A refresh answer without a new refresh token keeps the old one (RFC 6749 §6).
    assert_eq!(tokens.refresh_token, Some(Secret::from("old-refresh")));
    // An absurd lifetime is capped instead of overflowing `Instant`.
    let capped = TokenSet::from_response(
        now,
        response(&format!(
            r#"{{"access_token":"a","token_type":"Bearer","expires_in":{}}}"#,
            u64::MAX
        )),
        &ScopeSet::new(),
        None,
    );
    assert_eq!(capped.expires_at, Some(now + MAX_TOKEN_LIFETIME));
}

#[test]
fn wall_clock_maps_instants_both_ways() {
    let at = Instant::now() + Duration::from_secs(100);
    let clock = WallClock {
        at,
        unix_seconds: 1_000,
    };
    assert_eq!(clock.unix_at(at), 1_000);
    assert_eq!(clock.unix_at(at + Duration::from_secs(60)), 1_060);
    assert_eq!(clock.unix_at(at - Duration::from_secs(60)), 940);
    let early = WallClock {
        at,
        unix_seconds: 5,
    };
    assert_eq!(early.unix_at(at - Duration::from_secs(60)), 0);
}
