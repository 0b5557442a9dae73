//! Legacy Streamable HTTP sessions: minting, 400/404, idle expiry on virtual time, the bound.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use http::StatusCode;
use mcp_proto::http::SessionId;
use mcp_proto::streamable::{SessionError, SessionLimits, SessionTable};

fn entropy(n: u8) -> [u8; 16] {
    [n; 16]
}

#[test]
fn sessions_live_expire_and_end() {
    let t0 = Instant::now();
    let mut table = SessionTable::new(SessionLimits {
        max_sessions: 2,
        idle_timeout: Duration::from_secs(60),
    });
    let a = table.create(t0, &entropy(1), "a").unwrap();
    assert!(a.as_str().bytes().all(|b| (0x21..=0x7e).contains(&b)));
    assert_eq!(table.get_mut(t0, None).unwrap_err(), SessionError::Missing);
    assert_eq!(SessionError::Missing.status(), StatusCode::BAD_REQUEST);
    let unknown = SessionId::from_entropy(&entropy(9)).unwrap();
    assert_eq!(
        table.get_mut(t0, Some(&unknown)).unwrap_err().status(),
        StatusCode::NOT_FOUND
    );

    // Activity pushes the expiry back.
    assert_eq!(
        *table
            .get_mut(t0 + Duration::from_secs(50), Some(&a))
            .unwrap(),
        "a"
    );
    // The table is not reordered on every request: the first deadline comes, finds the
    // session used since, and lists it again at its real expiry.
    assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_secs(60)));
    table.handle_timeout(t0 + Duration::from_secs(60));
    assert_eq!(table.poll_expired(), None);
    assert_eq!(table.len(), 1);
    assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_secs(110)));
    let b = table
        .create(t0 + Duration::from_secs(50), &entropy(2), "b")
        .unwrap();
    // Full: refused with 503, nothing evicted.
    let full = table
        .create(t0 + Duration::from_secs(50), &entropy(3), "c")
        .unwrap_err();
    assert_eq!(
        (full.clone(), full.status()),
        (
            SessionError::Full { max: 2 },
            StatusCode::SERVICE_UNAVAILABLE
        )
    );
    // A repeated id from a broken random source is refused rather than shared.
    table.remove(&b).unwrap();
    assert_eq!(
        table
            .create(t0 + Duration::from_secs(50), &entropy(1), "again")
            .unwrap_err(),
        SessionError::Collision
    );

    // Idle past the deadline: gone, 404, and handed back to be closed.
    assert_eq!(
        table
            .get_mut(t0 + Duration::from_secs(110), Some(&a))
            .unwrap_err(),
        SessionError::Unknown
    );
    assert_eq!(table.poll_expired(), Some((a.clone(), "a")));
    assert_eq!(table.poll_expired(), None);
    assert!(table.is_empty());
    // Deleted sessions are unknown too.
    let d = table
        .create(t0 + Duration::from_secs(120), &entropy(4), "d")
        .unwrap();
    assert_eq!(table.remove(&d), Ok("d"));
    assert_eq!(table.remove(&d), Err(SessionError::Unknown));
    // Too little entropy is the caller's fault, never a weak id.
    assert!(matches!(
        table.create(t0, &[1; 8], "weak"),
        Err(SessionError::Entropy(_))
    ));
}

#[test]
fn an_unrepresentable_idle_timeout_means_never() {
    let t0 = Instant::now();
    let mut table = SessionTable::new(SessionLimits {
        max_sessions: 1,
        idle_timeout: Duration::MAX,
    });
    let id = table.create(t0, &entropy(5), ()).unwrap();
    assert_eq!(table.poll_timeout(), None);
    table.handle_timeout(t0 + Duration::from_secs(1_000_000));
    assert!(
        table
            .get_mut(t0 + Duration::from_secs(1_000_000), Some(&id))
            .is_ok()
    );
}
