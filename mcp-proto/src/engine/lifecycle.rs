//! The lifecycle of a connection, as one transition table.
//!
//! ```text
//!            close(now) with requests in flight
//!   Open ───────────────────────────────────────▶ Closing { deadline }
//!    │ close(now), nothing in flight                 │ last request settled      → Closed(Local)
//!    │ abort()                                       │ deadline passed           → Closed(ShutdownTimeout)
//!    │ transport closed                              │ abort() / transport closed → Closed(…)
//!    ▼                                               ▼
//!  Closed(reason) ◀───────────────────────────────────┘     (sticky: every input is ignored)
//! ```
//!
//! Every state change of a [`Connection`](super::Connection) goes through [`transition`]; the
//! connection only performs the side effects the new state asks for.

use std::time::Instant;

use super::pending::TransportFailure;

/// Where a connection is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Requests and notifications flow both ways.
    Open,
    /// `close` was called: no new outbound requests; those in flight may finish until `deadline`.
    Closing {
        /// When the requests still in flight are abandoned.
        deadline: Instant,
    },
    /// Finished. Sticky.
    Closed(CloseReason),
}

/// Why a connection closed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// Closed by this side, every request having settled.
    Local,
    /// Closed by this side; the grace period ran out with requests in flight.
    ShutdownTimeout,
    /// Closed by this side at once (`abort`), abandoning what was in flight.
    Aborted,
    /// The transport ended (EOF, process exit, HTTP failure on the whole connection).
    Transport(TransportFailure),
}

/// What can happen to the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The owner asked for a graceful close; `grace_deadline` bounds the wait.
    Close {
        /// When requests still in flight will be abandoned.
        grace_deadline: Instant,
        /// Whether requests are in flight right now.
        in_flight: bool,
    },
    /// The owner asked for an immediate close.
    Abort,
    /// The transport under the whole connection ended.
    TransportClosed(TransportFailure),
    /// Time passed.
    Timeout {
        /// The current time.
        now: Instant,
    },
    /// The last outbound request in flight settled.
    Drained,
}

/// The transition table: the next state for `input` in `state`.
#[must_use]
pub fn transition(state: &State, input: Input) -> State {
    match (state, input) {
        (State::Closed(reason), _) => State::Closed(reason.clone()),
        (_, Input::Abort) => State::Closed(CloseReason::Aborted),
        (_, Input::TransportClosed(failure)) => State::Closed(CloseReason::Transport(failure)),
        (
            State::Open,
            Input::Close {
                in_flight: false, ..
            },
        ) => State::Closed(CloseReason::Local),
        (
            State::Open,
            Input::Close {
                grace_deadline,
                in_flight: true,
            },
        ) => State::Closing {
            deadline: grace_deadline,
        },
        // A second close neither shortens nor extends the grace already granted.
        (closing @ State::Closing { .. }, Input::Close { .. }) => closing.clone(),
        (State::Closing { deadline }, Input::Timeout { now }) if now >= *deadline => {
            State::Closed(CloseReason::ShutdownTimeout)
        }
        (State::Closing { .. }, Input::Drained) => State::Closed(CloseReason::Local),
        (state @ (State::Open | State::Closing { .. }), Input::Timeout { .. } | Input::Drained) => {
            state.clone()
        }
    }
}
