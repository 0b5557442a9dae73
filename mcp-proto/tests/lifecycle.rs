//! The connection lifecycle transition table, row by row.

use std::time::{Duration, Instant};

use mcp_proto::engine::TransportFailure;
use mcp_proto::engine::lifecycle::{CloseReason, Input, State, transition};

#[test]
fn table() {
    let t0 = Instant::now();
    let later = t0 + Duration::from_secs(5);
    let lost = TransportFailure::StreamClosed;
    let closing = State::Closing { deadline: later };
    let closed = State::Closed(CloseReason::Local);
    let rows: Vec<(&State, Input, State)> = vec![
        (
            &State::Open,
            Input::Close {
                grace_deadline: later,
                in_flight: false,
            },
            closed.clone(),
        ),
        (
            &State::Open,
            Input::Close {
                grace_deadline: later,
                in_flight: true,
            },
            closing.clone(),
        ),
        (
            &State::Open,
            Input::Abort,
            State::Closed(CloseReason::Aborted),
        ),
        (
            &State::Open,
            Input::TransportClosed(lost.clone()),
            State::Closed(CloseReason::Transport(lost.clone())),
        ),
        (&State::Open, Input::Timeout { now: later }, State::Open),
        (&State::Open, Input::Drained, State::Open),
        (&closing, Input::Timeout { now: t0 }, closing.clone()),
        (
            &closing,
            Input::Timeout { now: later },
            State::Closed(CloseReason::ShutdownTimeout),
        ),
        (&closing, Input::Drained, closed.clone()),
        (
            &closing,
            Input::Close {
                grace_deadline: t0,
                in_flight: true,
            },
            closing.clone(),
        ),
        (&closing, Input::Abort, State::Closed(CloseReason::Aborted)),
        (&closed, Input::Abort, closed.clone()),
        (&closed, Input::TransportClosed(lost), closed.clone()),
        (
            &closed,
            Input::Close {
                grace_deadline: later,
                in_flight: true,
            },
            closed.clone(),
        ),
    ];
    for (from, input, to) in rows {
        assert_eq!(transition(from, input.clone()), to, "{from:?} + {input:?}");
    }
}
