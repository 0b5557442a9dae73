//! The settle-exactly-once invariant of `OutboundRequests`, checked against a model over random
//! interleavings of requests, answers (valid, late, unknown), malformed answers, cancels,
//! progress, time passing and transport failures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mcp_proto::engine::{
    OutboundRequests, Outcome, PendingLimits, RequestFailure, TransportFailure, TransportScope,
};
use mcp_proto::jsonrpc::{DecodeOptions, ErrorCode, ErrorObject, RawJson, RequestId, decode};
use mcp_proto::types::ProgressToken;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Begin {
        scope: u64,
        timeout_ms: u64,
        with_token: bool,
    },
    Respond {
        pick: prop::sample::Index,
        ok: bool,
    },
    RespondUnknown {
        id: i64,
    },
    Malformed {
        pick: prop::sample::Index,
    },
    Cancel {
        pick: prop::sample::Index,
    },
    Progress {
        pick: prop::sample::Index,
    },
    Advance {
        ms: u64,
    },
    FailScope {
        scope: u64,
    },
    FailAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3u64, 1..200u64, any::<bool>()).prop_map(|(scope, timeout_ms, with_token)| Op::Begin { scope, timeout_ms, with_token }),
        3 => (any::<prop::sample::Index>(), any::<bool>()).prop_map(|(pick, ok)| Op::Respond { pick, ok }),
        1 => (1000..2000i64).prop_map(|id| Op::RespondUnknown { id }),
        1 => any::<prop::sample::Index>().prop_map(|pick| Op::Malformed { pick }),
        1 => any::<prop::sample::Index>().prop_map(|pick| Op::Cancel { pick }),
        1 => any::<prop::sample::Index>().prop_map(|pick| Op::Progress { pick }),
        2 => (0..120u64).prop_map(|ms| Op::Advance { ms }),
        1 => (0..3u64).prop_map(|scope| Op::FailScope { scope }),
        1 => Just(Op::FailAll),
    ]
}

struct Model {
    /// Every id ever issued, in order, with its scope.
    issued: Vec<(RequestId, u64)>,
    /// When each id was sent.
    sent_at: HashMap<RequestId, Instant>,
    /// How many times each id was settled.
    settled: HashMap<RequestId, usize>,
}

fn drain(table: &mut OutboundRequests, model: &mut Model) -> Vec<(RequestId, Outcome)> {
    let mut out = Vec::new();
    while let Some(settled) = table.poll_settled() {
        assert!(
            model.issued.iter().any(|(id, _)| *id == settled.id),
            "settled an id never issued: {}",
            settled.id
        );
        *model.settled.entry(settled.id.clone()).or_default() += 1;
        out.push((settled.id, settled.outcome));
    }
    out
}

fn malformed_error() -> mcp_proto::jsonrpc::DecodeError {
    decode(
        br#"{"jsonrpc":"2.0","id":1,"error":"x"}"#,
        &DecodeOptions::default(),
    )
    .unwrap_err()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_request_is_settled_exactly_once(ops in prop::collection::vec(op(), 1..80)) {
        let limits = PendingLimits { max_pending: 16, default_timeout: Duration::from_millis(100), max_lifetime: Duration::from_millis(300) };
        let mut table = OutboundRequests::new(limits);
        let mut model = Model { issued: Vec::new(), sent_at: HashMap::new(), settled: HashMap::new() };
        let mut now = Instant::now();

        for op in ops {
            match op {
                Op::Begin { scope, timeout_ms, with_token } => {
                    let token = with_token.then(|| ProgressToken::String(format!("t{}", model.issued.len())));
                    match table.begin(now, "tools/call", TransportScope(scope), Some(Duration::from_millis(timeout_ms)), token) {
                        Ok(id) => {
                            prop_assert!(!model.issued.iter().any(|(old, _)| *old == id), "id {} reused", id);
                            model.sent_at.insert(id.clone(), now);
                            model.issued.push((id, scope));
                        }
                        Err(_) => prop_assert_eq!(table.len(), 16, "refused below the limit"),
                    }
                }
                Op::Respond { pick, ok } => {
                    if model.issued.is_empty() { continue; }
                    let id = model.issued[pick.index(model.issued.len())].0.clone();
                    let was_pending = table.contains(&id);
                    let answer = if ok { Ok(RawJson::from_text("{}").unwrap()) } else { Err(ErrorObject::from_code(ErrorCode::INTERNAL_ERROR)) };
                    let result = table.handle_response(&id, answer);
                    prop_assert_eq!(result.is_ok(), was_pending, "late answers are unmatched, live ones settle");
                    let settled = drain(&mut table, &mut model);
                    prop_assert_eq!(settled.len(), usize::from(was_pending));
                }
                Op::RespondUnknown { id } => {
                    prop_assert!(table.handle_response(&RequestId::Number(id), Ok(RawJson::null())).is_err());
                    prop_assert!(drain(&mut table, &mut model).is_empty());
                }
                Op::Malformed { pick } => {
                    if model.issued.is_empty() { continue; }
                    let id = model.issued[pick.index(model.issued.len())].0.clone();
                    let was_pending = table.contains(&id);
                    prop_assert_eq!(table.handle_malformed_response(&id, malformed_error()).is_ok(), was_pending);
                    let settled = drain(&mut table, &mut model);
                    prop_assert!(settled.iter().all(|(_, o)| matches!(o, Outcome::Failed(RequestFailure::MalformedResponse(_)))), "malformed answers settle as malformed");
                }
                Op::Cancel { pick } => {
                    if model.issued.is_empty() { continue; }
                    let id = model.issued[pick.index(model.issued.len())].0.clone();
                    let was_pending = table.contains(&id);
                    prop_assert_eq!(table.cancel(&id, None), was_pending);
                    prop_assert_eq!(drain(&mut table, &mut model).len(), usize::from(was_pending));
                }
                Op::Progress { pick } => {
                    if model.issued.is_empty() { continue; }
                    let index = pick.index(model.issued.len());
                    table.handle_progress(now, &ProgressToken::String(format!("t{index}")));
                    prop_assert!(drain(&mut table, &mut model).is_empty(), "progress never settles");
                }
                Op::Advance { ms } => {
                    now += Duration::from_millis(ms);
                    table.handle_timeout(now);
                    for (_, outcome) in drain(&mut table, &mut model) {
                        prop_assert!(matches!(outcome, Outcome::Failed(RequestFailure::TimedOut { .. })), "only timeouts settle on time passing");
                    }
                    if let Some(next) = table.poll_timeout() {
                        prop_assert!(next > now, "an expired deadline survived handle_timeout");
                    }
                    // The lifetime cap (300 ms) holds however much progress arrived.
                    for (id, _) in &model.issued {
                        if table.contains(id) {
                            prop_assert!(now.duration_since(model.sent_at[id]) < Duration::from_millis(300), "request {} outlived its cap", id);
                        }
                    }
                }
                Op::FailScope { scope } => {
                    let failure = TransportFailure::HttpStatus { status: 502, www_authenticate: None, body_excerpt: String::new() };
                    table.handle_transport_failure(TransportScope(scope), &failure);
                    for (_, outcome) in drain(&mut table, &mut model) {
                        prop_assert_eq!(outcome, Outcome::Failed(RequestFailure::Transport(failure.clone())), "the cause (status 502) is kept");
                    }
                    for (id, s) in &model.issued {
                        prop_assert!(!(*s == scope && table.contains(id)), "a request on the failed scope survived");
                    }
                }
                Op::FailAll => {
                    table.fail_all(&RequestFailure::Closed);
                    drain(&mut table, &mut model);
                    prop_assert!(table.is_empty());
                }
            }
            let unsettled = model.issued.iter().filter(|(id, _)| !model.settled.contains_key(id)).count();
            prop_assert_eq!(table.len(), unsettled, "table and model disagree");
            prop_assert!(model.settled.values().all(|&n| n == 1), "a request was settled twice");
        }
        // Closing settles the rest: afterwards every request ever issued was settled exactly once.
        table.fail_all(&RequestFailure::Closed);
        drain(&mut table, &mut model);
        prop_assert_eq!(model.settled.len(), model.issued.len());
        prop_assert!(model.settled.values().all(|&n| n == 1));
        prop_assert_eq!(table.poll_timeout(), None);
    }
}

#[test]
fn progress_extends_the_deadline_up_to_the_lifetime_cap() {
    let limits = PendingLimits {
        max_pending: 4,
        default_timeout: Duration::from_secs(10),
        max_lifetime: Duration::from_secs(25),
    };
    let mut table = OutboundRequests::new(limits);
    let t0 = Instant::now();
    let id = table
        .begin(
            t0,
            "tools/call",
            TransportScope::CONNECTION,
            None,
            Some("p".into()),
        )
        .unwrap();
    assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_secs(10)));
    assert!(table.handle_progress(t0 + Duration::from_secs(8), &"p".into()));
    assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_secs(18)));
    assert!(table.handle_progress(t0 + Duration::from_secs(17), &"p".into()));
    assert_eq!(
        table.poll_timeout(),
        Some(t0 + Duration::from_secs(25)),
        "capped by the lifetime"
    );
    table.handle_timeout(t0 + Duration::from_secs(24));
    assert!(table.contains(&id));
    table.handle_timeout(t0 + Duration::from_secs(25));
    let settled = table.poll_settled().unwrap();
    assert_eq!(
        settled.outcome,
        Outcome::Failed(RequestFailure::TimedOut {
            waited: Duration::from_secs(25)
        })
    );
    assert!(
        settled.notify_peer,
        "a timed-out request is cancelled at the peer"
    );
    assert!(
        !table.handle_progress(t0 + Duration::from_secs(26), &"p".into()),
        "the token died with its request"
    );
}

#[test]
fn a_transport_failure_settles_only_its_scope_and_keeps_the_cause() {
    let mut table = OutboundRequests::new(PendingLimits::default());
    let t0 = Instant::now();
    let a = table
        .begin(t0, "tools/call", TransportScope(1), None, None)
        .unwrap();
    let b = table
        .begin(t0, "tools/list", TransportScope(2), None, None)
        .unwrap();
    let failure = TransportFailure::HttpStatus {
        status: 401,
        www_authenticate: Some("Bearer".into()),
        body_excerpt: "no".into(),
    };
    table.handle_transport_failure(TransportScope(1), &failure);
    let settled = table.poll_settled().unwrap();
    assert_eq!((settled.id, settled.notify_peer), (a, false));
    assert_eq!(
        settled.outcome,
        Outcome::Failed(RequestFailure::Transport(failure))
    );
    assert_eq!(table.poll_settled(), None);
    assert!(table.contains(&b));
    // A response arriving after the failure is late, and dropped.
    assert!(
        table
            .handle_response(&settled_id(1), Ok(RawJson::null()))
            .is_err()
    );
}

fn settled_id(n: i64) -> RequestId {
    RequestId::Number(n)
}

#[test]
fn inbound_ids_are_a_separate_space() {
    use mcp_proto::engine::{InboundError, InboundRequests};
    let mut outbound = OutboundRequests::new(PendingLimits::default());
    let mut inbound = InboundRequests::new(PendingLimits::default());
    let ours = outbound
        .begin(
            Instant::now(),
            "ping",
            TransportScope::CONNECTION,
            None,
            None,
        )
        .unwrap();
    // The peer uses the same id value for its own request: both live side by side.
    inbound
        .begin(&ours, "sampling/createMessage", TransportScope::CONNECTION)
        .unwrap();
    assert_eq!(
        inbound.begin(&ours, "roots/list", TransportScope::CONNECTION),
        Err(InboundError::DuplicateId(ours.clone()))
    );
    assert!(outbound.contains(&ours));
    assert!(inbound.cancel(&ours), "peer cancel stops our answer");
    assert_eq!(
        inbound.finish(&ours),
        Err(InboundError::NotPending(ours.clone()))
    );
    assert!(
        outbound.contains(&ours),
        "cancelling the peer's request never touched ours"
    );
}
