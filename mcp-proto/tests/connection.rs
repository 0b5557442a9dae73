//! `engine::Connection`: scenarios for every way a request can end, and a property test over a
//! pair of connections wired in memory on virtual time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mcp_proto::engine::{
    CancellationStyle, CloseReason, Connection, ConnectionConfig, Event, LocalError, Outcome,
    PendingLimits, RequestFailure, RequestOptions, ScopePolicy, State, Transmit, TransportFailure,
    TransportScope,
};
use mcp_proto::jsonrpc::{
    self, DecodeOptions, ErrorCode, ErrorObject, Message, RawJson, RequestId,
};
use proptest::prelude::*;

fn config() -> ConnectionConfig {
    ConnectionConfig {
        limits: PendingLimits {
            max_pending: 8,
            default_timeout: Duration::from_secs(10),
            max_lifetime: Duration::from_secs(60),
        },
        close_grace: Duration::from_secs(2),
        ..ConnectionConfig::default()
    }
}

fn transmits(conn: &mut Connection) -> Vec<Transmit> {
    std::iter::from_fn(|| conn.poll_transmit()).collect()
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Delivers everything `from` wants to send to `to`, through the real codec.
fn deliver(now: Instant, from: &mut Connection, to: &mut Connection) -> usize {
    let mut delivered = 0;
    for transmit in transmits(from) {
        if let Transmit::Send { scope, message } = transmit {
            let bytes = jsonrpc::encode(&message);
            match jsonrpc::decode_message(&bytes, &DecodeOptions::default()) {
                Ok(message) => to.handle_message(now, scope, message),
                Err(error) => to.handle_invalid_message(now, scope, error),
            }
            delivered += 1;
        }
    }
    delivered
}

fn ok() -> Result<RawJson, ErrorObject> {
    Ok(RawJson::from_text(r#"{"resultType":"complete"}"#).unwrap())
}

#[test]
fn a_request_round_trips_between_two_connections() {
    let t0 = Instant::now();
    let (mut client, mut server) = (Connection::new(config()), Connection::new(config()));
    let id = client
        .request(
            t0,
            "tools/list",
            Some(RawJson::from_text("{}").unwrap()),
            RequestOptions::default(),
        )
        .unwrap();
    deliver(t0, &mut client, &mut server);
    let [
        Event::Request {
            id: seen, method, ..
        },
    ] = &events(&mut server)[..]
    else {
        panic!()
    };
    assert_eq!((seen, method.as_str()), (&id, "tools/list"));
    server.respond(&id, ok()).unwrap();
    assert!(
        matches!(server.respond(&id, ok()), Err(LocalError::Inbound(_))),
        "answered at most once"
    );
    deliver(t0, &mut server, &mut client);
    let [Event::Settled(settled)] = &events(&mut client)[..] else {
        panic!()
    };
    assert_eq!(
        (&settled.id, &settled.outcome),
        (
            &id,
            &Outcome::Result(RawJson::from_text(r#"{"resultType":"complete"}"#).unwrap())
        )
    );
    assert_eq!(client.poll_timeout(), None);
}

#[test]
fn a_timeout_settles_and_cancels_at_the_peer_which_then_cannot_answer() {
    let t0 = Instant::now();
    let (mut client, mut server) = (Connection::new(config()), Connection::new(config()));
    let id = client
        .request(
            t0,
            "tools/call",
            None,
            RequestOptions {
                timeout: Some(Duration::from_secs(3)),
                ..Default::default()
            },
        )
        .unwrap();
    deliver(t0, &mut client, &mut server);
    events(&mut server);
    assert_eq!(client.poll_timeout(), Some(t0 + Duration::from_secs(3)));
    client.handle_timeout(t0 + Duration::from_secs(3));
    let [Event::Settled(settled)] = &events(&mut client)[..] else {
        panic!()
    };
    assert!(matches!(
        settled.outcome,
        Outcome::Failed(RequestFailure::TimedOut { .. })
    ));
    deliver(t0, &mut client, &mut server);
    assert!(
        matches!(&events(&mut server)[..], [Event::PeerCancelled { id: cancelled, reason: Some(r) }] if *cancelled == id && r == "timed out")
    );
    assert!(
        server.respond(&id, ok()).is_err(),
        "no answer after a cancel"
    );
    // A late answer anyway (a racing server) is reported and dropped.
    client.handle_message(
        t0,
        TransportScope::CONNECTION,
        Message::Response(jsonrpc::Response {
            id: id.clone(),
            result: RawJson::null(),
        }),
    );
    assert_eq!(events(&mut client), vec![Event::UnmatchedResponse(id)]);
}

#[test]
fn initialize_is_never_cancelled_by_notification() {
    let t0 = Instant::now();
    let mut client = Connection::new(config());
    let id = client
        .request(t0, "initialize", None, RequestOptions::default())
        .unwrap();
    transmits(&mut client);
    assert!(client.cancel(t0, &id, Some("user".into())));
    assert!(transmits(&mut client).is_empty());
    assert!(
        matches!(&events(&mut client)[..], [Event::Settled(s)] if s.outcome == Outcome::Failed(RequestFailure::Cancelled { reason: Some("user".into()) }))
    );
}

#[test]
fn on_modern_http_a_cancel_closes_the_request_stream() {
    let t0 = Instant::now();
    let mut client = Connection::new(ConnectionConfig {
        cancellation: CancellationStyle::CloseStream,
        scopes: ScopePolicy::PerRequest,
        ..config()
    });
    let a = client
        .request(t0, "tools/call", None, RequestOptions::default())
        .unwrap();
    let _b = client
        .request(t0, "tools/call", None, RequestOptions::default())
        .unwrap();
    let scopes: Vec<TransportScope> = transmits(&mut client)
        .into_iter()
        .map(|t| match t {
            Transmit::Send { scope, .. } => scope,
            Transmit::CloseScope(_) => panic!(),
        })
        .collect();
    assert_eq!(scopes, [TransportScope(1), TransportScope(2)]);
    client.cancel(t0, &a, None);
    assert_eq!(
        transmits(&mut client),
        vec![Transmit::CloseScope(TransportScope(1))]
    );
}

#[test]
fn an_http_error_settles_only_the_request_it_carried_in_the_same_call() {
    let t0 = Instant::now();
    let mut client = Connection::new(ConnectionConfig {
        scopes: ScopePolicy::PerRequest,
        ..config()
    });
    let a = client
        .request(t0, "tools/call", None, RequestOptions::default())
        .unwrap();
    let b = client
        .request(t0, "tools/list", None, RequestOptions::default())
        .unwrap();
    transmits(&mut client);
    assert_ne!(a, b);
    let failure = TransportFailure::HttpStatus {
        status: 502,
        www_authenticate: None,
        body_excerpt: "Bad Gateway".into(),
    };
    client.handle_transport_closed(t0, TransportScope(1), failure.clone());
    let settled = events(&mut client);
    assert_eq!(settled.len(), 1);
    assert!(
        matches!(&settled[0], Event::Settled(s) if s.id == a && s.outcome == Outcome::Failed(RequestFailure::Transport(failure)))
    );
    assert_eq!(client.requests_in_flight(), 1);
    assert!(
        transmits(&mut client).is_empty(),
        "a failed transport is not asked to carry a cancel"
    );
}

#[test]
fn a_server_treats_a_closed_request_stream_as_the_clients_cancel() {
    let t0 = Instant::now();
    let mut server = Connection::new(config());
    server.handle_message(
        t0,
        TransportScope(7),
        Message::Request(jsonrpc::Request {
            id: 1.into(),
            method: "tools/call".into(),
            params: None,
        }),
    );
    events(&mut server);
    server.handle_transport_closed(t0, TransportScope(7), TransportFailure::StreamClosed);
    assert!(
        matches!(&events(&mut server)[..], [Event::PeerCancelled { id, .. }] if *id == 1.into())
    );
    assert!(server.respond(&1.into(), ok()).is_err());
    assert_eq!(
        server.state(),
        &State::Open,
        "one stream closing does not close the connection"
    );
}

#[test]
fn process_exit_settles_everything_with_the_exit_status_and_closes_once() {
    let t0 = Instant::now();
    let mut client = Connection::new(config());
    let ids: Vec<RequestId> = (0..3)
        .map(|_| {
            client
                .request(t0, "tools/call", None, RequestOptions::default())
                .unwrap()
        })
        .collect();
    let exit = TransportFailure::ProcessExited {
        code: Some(3),
        signal: None,
    };
    client.handle_transport_closed(t0, TransportScope::CONNECTION, exit.clone());
    let all = events(&mut client);
    let settled: Vec<&RequestId> = all
        .iter()
        .filter_map(|e| match e {
            Event::Settled(s) => {
                assert_eq!(
                    s.outcome,
                    Outcome::Failed(RequestFailure::Transport(exit.clone()))
                );
                Some(&s.id)
            }
            _ => None,
        })
        .collect();
    assert_eq!(settled, ids.iter().collect::<Vec<_>>());
    let Some(Event::Closed(report)) = all.last() else {
        panic!("Closed comes last")
    };
    assert_eq!(report.reason, CloseReason::Transport(exit));
    assert_eq!(
        report.abandoned.len(),
        0,
        "already settled by the failure itself"
    );
    assert!(transmits(&mut client).is_empty());
    client.handle_transport_closed(
        t0,
        TransportScope::CONNECTION,
        TransportFailure::StreamClosed,
    );
    client.close(t0);
    client.abort();
    assert!(
        events(&mut client).is_empty(),
        "Closed is emitted exactly once"
    );
    assert_eq!(
        client.request(t0, "ping", None, RequestOptions::default()),
        Err(LocalError::Closed)
    );
}

#[test]
fn a_graceful_close_lets_requests_finish_and_reports_them() {
    let t0 = Instant::now();
    let (mut client, mut server) = (Connection::new(config()), Connection::new(config()));
    let id = client
        .request(t0, "tools/call", None, RequestOptions::default())
        .unwrap();
    deliver(t0, &mut client, &mut server);
    events(&mut server);
    client.close(t0);
    assert!(matches!(client.state(), State::Closing { .. }));
    assert_eq!(
        client.request(t0, "ping", None, RequestOptions::default()),
        Err(LocalError::Closing)
    );
    server.respond(&id, ok()).unwrap();
    deliver(t0, &mut server, &mut client);
    let all = events(&mut client);
    assert!(
        matches!(&all[..], [Event::Settled(_), Event::Closed(report)] if report.reason == CloseReason::Local && report.completed_while_closing == 1 && report.abandoned.is_empty())
    );
}

#[test]
fn a_close_whose_grace_runs_out_abandons_and_cancels() {
    let t0 = Instant::now();
    let mut client = Connection::new(config());
    let id = client
        .request(t0, "tools/call", None, RequestOptions::default())
        .unwrap();
    transmits(&mut client);
    client.close(t0);
    assert_eq!(
        client.poll_timeout(),
        Some(t0 + Duration::from_secs(2)),
        "the grace deadline comes before the request's"
    );
    client.handle_timeout(t0 + Duration::from_secs(2));
    let all = events(&mut client);
    assert!(
        matches!(&all[0], Event::Settled(s) if s.outcome == Outcome::Failed(RequestFailure::Closed))
    );
    assert!(
        matches!(&all[1], Event::Closed(r) if r.reason == CloseReason::ShutdownTimeout && r.abandoned == vec![(id, "tools/call".to_owned())])
    );
    let cancel = transmits(&mut client);
    assert!(
        matches!(&cancel[..], [Transmit::Send { message: Message::Notification(n), .. }] if n.method == "notifications/cancelled")
    );
}

#[test]
fn duplicate_ids_from_the_peer_are_refused_without_losing_the_original() {
    let t0 = Instant::now();
    let mut server = Connection::new(config());
    let request = Message::Request(jsonrpc::Request {
        id: 5.into(),
        method: "tools/call".into(),
        params: None,
    });
    server.handle_message(t0, TransportScope::CONNECTION, request.clone());
    server.handle_message(t0, TransportScope::CONNECTION, request);
    assert_eq!(events(&mut server).len(), 1);
    assert!(
        matches!(&transmits(&mut server)[..], [Transmit::Send { message: Message::Error(e), .. }] if e.error.code == ErrorCode::INVALID_REQUEST)
    );
    server.respond(&5.into(), ok()).unwrap();
}

#[test]
fn a_malformed_answer_settles_its_request_and_garbage_is_answered() {
    let t0 = Instant::now();
    let mut client = Connection::new(config());
    let id = client
        .request(t0, "tools/call", None, RequestOptions::default())
        .unwrap();
    transmits(&mut client);
    let bad = format!(r#"{{"jsonrpc":"2.0","id":{id},"error":"boom"}}"#);
    let error = jsonrpc::decode_message(bad.as_bytes(), &DecodeOptions::default()).unwrap_err();
    client.handle_invalid_message(t0, TransportScope::CONNECTION, error);
    assert!(
        matches!(&events(&mut client)[..], [Event::Settled(s)] if matches!(s.outcome, Outcome::Failed(RequestFailure::MalformedResponse(_))))
    );
    let garbage = jsonrpc::decode_message(b"{oops", &DecodeOptions::default()).unwrap_err();
    client.handle_invalid_message(t0, TransportScope::CONNECTION, garbage);
    assert!(
        matches!(&transmits(&mut client)[..], [Transmit::Send { message: Message::Error(e), .. }] if e.error.code == ErrorCode::PARSE_ERROR && e.id.is_none())
    );
    assert!(matches!(
        &events(&mut client)[..],
        [Event::InvalidMessage(_)]
    ));
}

#[test]
fn time_never_runs_backwards() {
    let t0 = Instant::now();
    let mut client = Connection::new(config());
    client.handle_timeout(t0 + Duration::from_secs(100));
    // A request sent with an older clock reading still gets its full timeout from the newest time.
    client
        .request(
            t0,
            "tools/call",
            None,
            RequestOptions {
                timeout: Some(Duration::from_secs(1)),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(client.poll_timeout(), Some(t0 + Duration::from_secs(101)));
}

#[derive(Debug, Clone)]
enum Op {
    ClientRequest { timeout_s: u64 },
    ServerRequest,
    Answer { pick: prop::sample::Index, ok: bool },
    Cancel { pick: prop::sample::Index },
    DeliverToServer,
    DeliverToClient,
    Advance { s: u64 },
    Close,
    Abort,
    TransportLost,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1..20u64).prop_map(|timeout_s| Op::ClientRequest { timeout_s }),
        1 => Just(Op::ServerRequest),
        3 => (any::<prop::sample::Index>(), any::<bool>()).prop_map(|(pick, ok)| Op::Answer { pick, ok }),
        1 => any::<prop::sample::Index>().prop_map(|pick| Op::Cancel { pick }),
        3 => Just(Op::DeliverToServer),
        3 => Just(Op::DeliverToClient),
        2 => (0..8u64).prop_map(|s| Op::Advance { s }),
        1 => Just(Op::Close),
        1 => Just(Op::Abort),
        1 => Just(Op::TransportLost),
    ]
}

#[derive(Default)]
struct Tally {
    issued: Vec<RequestId>,
    settled: HashMap<RequestId, usize>,
    closed: usize,
    peer_requests: Vec<RequestId>,
}

fn observe(conn: &mut Connection, tally: &mut Tally) -> Result<(), TestCaseError> {
    for event in events(conn) {
        prop_assert_eq!(tally.closed, 0, "an event after Closed: {:?}", event);
        match event {
            Event::Settled(s) => *tally.settled.entry(s.id).or_default() += 1,
            Event::Closed(_) => tally.closed += 1,
            Event::Request { id, .. } => tally.peer_requests.push(id),
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Both ends of a pair, random traffic, timeouts, cancels, closes and transport loss: every
    /// request either end sent is settled exactly once, and each end reports Closed at most once
    /// and nothing after it.
    #[test]
    fn every_request_settles_exactly_once_across_a_pair(ops in prop::collection::vec(op(), 1..120)) {
        let mut now = Instant::now();
        let (mut client, mut server) = (Connection::new(config()), Connection::new(config()));
        let (mut c, mut s) = (Tally::default(), Tally::default());
        for op in ops {
            match op {
                Op::ClientRequest { timeout_s } => {
                    if let Ok(id) = client.request(now, "tools/call", None, RequestOptions { timeout: Some(Duration::from_secs(timeout_s)), ..Default::default() }) {
                        c.issued.push(id);
                    }
                }
                Op::ServerRequest => {
                    if let Ok(id) = server.request(now, "sampling/createMessage", None, RequestOptions::default()) {
                        s.issued.push(id);
                    }
                }
                Op::Answer { pick, ok: good } => {
                    // Either side answers one of the requests it received (maybe twice, maybe late).
                    if !s.peer_requests.is_empty() {
                        let id = s.peer_requests[pick.index(s.peer_requests.len())].clone();
                        let _ = server.respond(&id, if good { ok() } else { Err(ErrorObject::from_code(ErrorCode::INTERNAL_ERROR)) });
                    }
                    if !c.peer_requests.is_empty() {
                        let id = c.peer_requests[pick.index(c.peer_requests.len())].clone();
                        let _ = client.respond(&id, ok());
                    }
                }
                Op::Cancel { pick } => {
                    if !c.issued.is_empty() {
                        let id = c.issued[pick.index(c.issued.len())].clone();
                        client.cancel(now, &id, None);
                    }
                }
                Op::DeliverToServer => { deliver(now, &mut client, &mut server); }
                Op::DeliverToClient => { deliver(now, &mut server, &mut client); }
                Op::Advance { s: secs } => {
                    now += Duration::from_secs(secs);
                    client.handle_timeout(now);
                    server.handle_timeout(now);
                }
                Op::Close => client.close(now),
                Op::Abort => server.abort(),
                Op::TransportLost => client.handle_transport_closed(now, TransportScope::CONNECTION, TransportFailure::ConnectionLost("eof".into())),
            }
            observe(&mut client, &mut c)?;
            observe(&mut server, &mut s)?;
            prop_assert!(c.settled.values().chain(s.settled.values()).all(|&n| n == 1), "settled twice");
        }
        // Tearing both down settles whatever is left.
        client.abort();
        server.abort();
        observe(&mut client, &mut c)?;
        observe(&mut server, &mut s)?;
        for tally in [&c, &s] {
            prop_assert_eq!(tally.closed, 1);
            prop_assert_eq!(tally.settled.len(), tally.issued.len(), "a request was never settled");
            prop_assert!(tally.issued.iter().all(|id| tally.settled.get(id) == Some(&1)));
        }
    }
}

#[test]
fn progress_floods_are_bounded_per_second() {
    let t0 = Instant::now();
    let mut client = Connection::new(ConnectionConfig {
        max_progress_per_second: 3,
        ..config()
    });
    let token = mcp_proto::types::ProgressToken::from("p");
    let id = client
        .request(
            t0,
            "tools/call",
            None,
            RequestOptions {
                timeout: Some(Duration::from_secs(2)),
                progress_token: Some(token),
                ..Default::default()
            },
        )
        .unwrap();
    transmits(&mut client);
    let progress = || {
        Message::Notification(jsonrpc::Notification {
            method: "notifications/progress".into(),
            params: Some(RawJson::from_text(r#"{"progressToken":"p","progress":1}"#).unwrap()),
        })
    };
    for i in 0..10u64 {
        client.handle_message(
            t0 + Duration::from_millis(i * 10),
            TransportScope::CONNECTION,
            progress(),
        );
    }
    assert_eq!(
        events(&mut client).len(),
        3,
        "three per second reach the application"
    );
    assert_eq!(client.dropped_progress(), 7);
    // Dropped progress did not extend the deadline past the last admitted one (t0+20ms+2s).
    assert_eq!(
        client.poll_timeout(),
        Some(t0 + Duration::from_millis(20) + Duration::from_secs(2))
    );
    // A new second, a new allowance.
    client.handle_message(
        t0 + Duration::from_millis(1100),
        TransportScope::CONNECTION,
        progress(),
    );
    assert_eq!(events(&mut client).len(), 1);
    assert!(client.cancel(t0 + Duration::from_millis(1200), &id, None));
}
