//! The requests an endpoint is waiting on, and the requests it owes an answer to.
//!
//! [`OutboundRequests`] is where the project's first guarantee lives: every request this side
//! sent is settled **exactly once** — by its result, the peer's error, a timeout, a cancel, the
//! transport failure that affected it, or the endpoint closing — and nothing is delivered for
//! it afterwards. Every way a request can end goes through one private function that removes
//! the entry and queues a [`Settled`]; an id that is no longer in the table cannot be settled
//! again, so a late or duplicated response is reported as [`Unmatched`] and dropped.
//!
//! [`InboundRequests`] tracks the peer's requests separately: the two id spaces never mix (a
//! peer's request `7` and our request `7` are different requests), duplicates in flight are
//! refused, each is answered at most once, and a peer cancel stops delivery of its answer.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use crate::jsonrpc::{DecodeError, ErrorObject, RawJson, RequestId};
use crate::types::ProgressToken;

/// The default time a request may wait for its answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The default longest a request may live however often progress extends its deadline.
pub const DEFAULT_MAX_REQUEST_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// The default number of requests that may be in flight in one direction.
pub const DEFAULT_MAX_PENDING: usize = 1024;

/// Bounds on the pending-request tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingLimits {
    /// Requests in flight at once (per direction). Beyond it, new requests are refused.
    pub max_pending: usize,
    /// How long a request waits when its caller names no timeout.
    pub default_timeout: Duration,
    /// The hard cap on a request's life, counted from when it was sent: progress notifications
    /// push the deadline back, never past this.
    pub max_lifetime: Duration,
}

impl Default for PendingLimits {
    fn default() -> Self {
        Self {
            max_pending: DEFAULT_MAX_PENDING,
            default_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_lifetime: DEFAULT_MAX_REQUEST_LIFETIME,
        }
    }
}

/// Which part of a transport carries a request, so that a failure of that part settles exactly
/// the requests it affected. On stdio every request shares [`TransportScope::CONNECTION`]; on
/// Streamable HTTP each POST (and its response stream) gets its own scope from the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TransportScope(pub u64);

impl TransportScope {
    /// The whole connection (stdio, in-memory, a single stream).
    pub const CONNECTION: Self = Self(0);
}

/// Why a transport stopped carrying requests. Kept verbatim in the errors it causes, so the
/// caller of a failed request sees the real cause (a status code, an exit code…).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFailure {
    /// The peer answered with an HTTP error status.
    HttpStatus {
        /// The status code, e.g. 401 or 502.
        status: u16,
        /// The `WWW-Authenticate` challenge, when there was one.
        www_authenticate: Option<String>,
        /// The start of the response body, for diagnosis.
        body_excerpt: String,
    },
    /// A response stream (SSE or a byte stream) ended before the response arrived.
    StreamClosed,
    /// The peer process exited.
    ProcessExited {
        /// Its exit code, if it exited normally.
        code: Option<i32>,
        /// The signal that ended it, if any.
        signal: Option<i32>,
    },
    /// The connection ended (EOF) or an IO error broke it; the text is the adapter's description.
    ConnectionLost(String),
    /// The peer answered 401 or 403 and the client's authorization flow could not obtain a
    /// token it accepts (the flow's error, with its cause).
    Unauthorized {
        /// The status that started the flow (401 or 403).
        status: u16,
        /// Why no usable token was obtained.
        error: Box<crate::auth::AuthError>,
    },
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HttpStatus {
                status,
                body_excerpt,
                ..
            } if body_excerpt.is_empty() => {
                write!(f, "HTTP status {status}")
            }
            Self::HttpStatus {
                status,
                body_excerpt,
                ..
            } => write!(f, "HTTP status {status}: {body_excerpt}"),
            Self::StreamClosed => f.write_str("the response stream closed before the response"),
            Self::ProcessExited {
                code: Some(code), ..
            } => write!(f, "the server process exited with code {code}"),
            Self::ProcessExited {
                signal: Some(signal),
                ..
            } => {
                write!(f, "the server process was killed by signal {signal}")
            }
            Self::ProcessExited { .. } => f.write_str("the server process exited"),
            Self::ConnectionLost(why) => write!(f, "the connection was lost: {why}"),
            Self::Unauthorized { status, error } => {
                write!(f, "HTTP status {status}, and authorization failed: {error}")?;
                let mut source = std::error::Error::source(error.as_ref());
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
        }
    }
}

/// Why a request ended without a response from the peer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestFailure {
    /// No answer before the deadline.
    #[error("no response within {waited:?}")]
    TimedOut {
        /// How long the request waited.
        waited: Duration,
    },
    /// The caller cancelled it.
    #[error("cancelled{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Cancelled {
        /// The reason given, if any.
        reason: Option<String>,
    },
    /// The transport carrying it failed.
    #[error("transport failed: {0}")]
    Transport(TransportFailure),
    /// The peer's answer could not be decoded.
    #[error("the response was malformed: {0}")]
    MalformedResponse(DecodeError),
    /// The peer ended the request without a result (a server closing a subscription with
    /// `notifications/cancelled`).
    #[error("ended by the peer{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    EndedByPeer {
        /// The peer's reason, if any.
        reason: Option<String>,
    },
    /// The peer's result breaks the protocol (e.g. an unrecognised `resultType`).
    #[error("the result is invalid: {reason}")]
    InvalidResult {
        /// What is wrong with it.
        reason: String,
    },
    /// The endpoint closed before an answer arrived (shutdown grace expired, or abort).
    #[error("the endpoint closed before the response")]
    Closed,
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The peer's result.
    Result(RawJson),
    /// The peer's error.
    Error(ErrorObject),
    /// No answer from the peer: the reason.
    Failed(RequestFailure),
}

/// A request that has ended; emitted exactly once per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The request's id.
    pub id: RequestId,
    /// Its method.
    pub method: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The transport scope that carried it.
    pub scope: TransportScope,
    /// Whether the peer should be told to stop working on it (`notifications/cancelled`, or
    /// closing its stream): true for a timeout or a cancel while the transport still works.
    pub notify_peer: bool,
}

/// A response whose id matches no request in flight (late, duplicated, or never sent). It is
/// dropped; the value says which id, for logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched(pub RequestId);

/// Why a new outbound request was refused before it was sent.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeginError {
    /// Too many requests are in flight.
    #[error("{max} requests are already in flight")]
    TooManyPending {
        /// The limit.
        max: usize,
    },
    /// The id counter is exhausted (after 2^63 requests on one connection).
    #[error("request ids are exhausted on this connection")]
    IdsExhausted,
}

#[derive(Debug)]
struct Pending {
    method: String,
    scope: TransportScope,
    sent_at: Instant,
    deadline: Option<Instant>,
    hard_deadline: Option<Instant>,
    /// `None` for a long-lived request.
    timeout: Option<Duration>,
    progress_token: Option<ProgressToken>,
}

/// Requests this side sent and is waiting on. See the [module docs](self).
#[derive(Debug)]
pub struct OutboundRequests {
    limits: PendingLimits,
    next_id: i64,
    pending: HashMap<RequestId, Pending>,
    deadlines: BTreeSet<(Instant, RequestId)>,
    by_progress_token: HashMap<ProgressToken, RequestId>,
    settled: VecDeque<Settled>,
}

impl OutboundRequests {
    /// An empty table with `limits`.
    #[must_use]
    pub fn new(limits: PendingLimits) -> Self {
        Self {
            limits,
            next_id: 1,
            pending: HashMap::new(),
            deadlines: BTreeSet::new(),
            by_progress_token: HashMap::new(),
            settled: VecDeque::new(),
        }
    }

    /// Registers a new request and returns its id: the next value of a counter that never
    /// repeats on this table, so an id is never reused on a connection.
    ///
    /// `timeout` defaults to [`PendingLimits::default_timeout`]. A `progress_token` lets
    /// [`OutboundRequests::handle_progress`] extend the deadline (up to the lifetime cap).
    ///
    /// # Errors
    /// [`BeginError`] when the table is full or the ids are exhausted; nothing is registered.
    pub fn begin(
        &mut self,
        now: Instant,
        method: impl Into<String>,
        scope: TransportScope,
        timeout: Option<Duration>,
        progress_token: Option<ProgressToken>,
    ) -> Result<RequestId, BeginError> {
        let timeout = timeout.unwrap_or(self.limits.default_timeout);
        self.register(now, method.into(), scope, Some(timeout), progress_token)
    }

    /// Registers a long-lived request (a `subscriptions/listen` stream): no deadline and no
    /// lifetime cap. It still settles exactly once — by its answer, a cancel, the failure of its
    /// transport scope, or the endpoint closing.
    ///
    /// # Errors
    /// As [`OutboundRequests::begin`].
    pub fn begin_long_lived(
        &mut self,
        now: Instant,
        method: impl Into<String>,
        scope: TransportScope,
    ) -> Result<RequestId, BeginError> {
        self.register(now, method.into(), scope, None, None)
    }

    /// `timeout: None` means no deadline at all.
    fn register(
        &mut self,
        now: Instant,
        method: String,
        scope: TransportScope,
        timeout: Option<Duration>,
        progress_token: Option<ProgressToken>,
    ) -> Result<RequestId, BeginError> {
        if self.pending.len() >= self.limits.max_pending {
            return Err(BeginError::TooManyPending {
                max: self.limits.max_pending,
            });
        }
        let id = RequestId::Number(self.next_id);
        self.next_id = self
            .next_id
            .checked_add(1)
            .ok_or(BeginError::IdsExhausted)?;
        let (deadline, hard_deadline) = match timeout {
            Some(timeout) => {
                let hard_deadline = now.checked_add(self.limits.max_lifetime);
                (
                    earliest(now.checked_add(timeout), hard_deadline),
                    hard_deadline,
                )
            }
            None => (None, None),
        };
        if let Some(deadline) = deadline {
            self.deadlines.insert((deadline, id.clone()));
        }
        if let Some(token) = &progress_token {
            self.by_progress_token.insert(token.clone(), id.clone());
        }
        self.pending.insert(
            id.clone(),
            Pending {
                method,
                scope,
                sent_at: now,
                deadline,
                hard_deadline,
                timeout,
                progress_token,
            },
        );
        Ok(id)
    }

    /// Settles the request `id` with the peer's answer.
    ///
    /// # Errors
    /// [`Unmatched`] when no request with that id is in flight; the answer is dropped.
    pub fn handle_response(
        &mut self,
        id: &RequestId,
        outcome: Result<RawJson, ErrorObject>,
    ) -> Result<(), Unmatched> {
        let outcome = match outcome {
            Ok(result) => Outcome::Result(result),
            Err(error) => Outcome::Error(error),
        };
        self.settle(id, outcome, false)
            .ok_or_else(|| Unmatched(id.clone()))
    }

    /// Settles the request `id` because its answer could not be decoded (the decoder could
    /// still read the id).
    ///
    /// # Errors
    /// [`Unmatched`] when no request with that id is in flight.
    pub fn handle_malformed_response(
        &mut self,
        id: &RequestId,
        error: DecodeError,
    ) -> Result<(), Unmatched> {
        self.settle(
            id,
            Outcome::Failed(RequestFailure::MalformedResponse(error)),
            false,
        )
        .ok_or_else(|| Unmatched(id.clone()))
    }

    /// Pushes back the deadline of the request that owns `token` by its timeout, never past its
    /// lifetime cap. Returns whether a request owned the token.
    pub fn handle_progress(&mut self, now: Instant, token: &ProgressToken) -> bool {
        let Some(id) = self.by_progress_token.get(token).cloned() else {
            return false;
        };
        let Some(pending) = self.pending.get_mut(&id) else {
            return false;
        };
        // A long-lived request has no deadline for progress to move.
        let Some(timeout) = pending.timeout else {
            return true;
        };
        let extended = earliest(now.checked_add(timeout), pending.hard_deadline);
        if extended > pending.deadline || pending.deadline.is_none() {
            if let Some(old) = pending.deadline {
                self.deadlines.remove(&(old, id.clone()));
            }
            pending.deadline = extended;
            if let Some(new) = extended {
                self.deadlines.insert((new, id));
            }
        }
        true
    }

    /// Settles every request whose deadline is at or before `now` as timed out. Extra calls
    /// are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((deadline, id)) = self.deadlines.first().cloned() {
            if deadline > now {
                break;
            }
            let waited = self
                .pending
                .get(&id)
                .map_or(Duration::ZERO, |p| now.saturating_duration_since(p.sent_at));
            if self
                .settle(
                    &id,
                    Outcome::Failed(RequestFailure::TimedOut { waited }),
                    true,
                )
                .is_none()
            {
                // Unreachable while the indexes agree; dropping the entry keeps the loop finite.
                self.deadlines.remove(&(deadline, id));
            }
        }
    }

    /// Cancels the request `id` on the caller's behalf. Returns whether it was in flight.
    pub fn cancel(&mut self, id: &RequestId, reason: Option<String>) -> bool {
        self.settle(
            id,
            Outcome::Failed(RequestFailure::Cancelled { reason }),
            true,
        )
        .is_some()
    }

    /// Settles the request `id` as ended by the peer (e.g. a server ending a subscription
    /// stream with `notifications/cancelled`); the peer is not told anything back. Returns
    /// whether it was in flight.
    pub fn end_by_peer(&mut self, id: &RequestId, reason: Option<String>) -> bool {
        self.settle(
            id,
            Outcome::Failed(RequestFailure::EndedByPeer { reason }),
            false,
        )
        .is_some()
    }

    /// Settles every request carried by `scope` with `failure`, at once.
    pub fn handle_transport_failure(&mut self, scope: TransportScope, failure: &TransportFailure) {
        self.fail_matching(
            |p| p.scope == scope,
            &RequestFailure::Transport(failure.clone()),
        );
    }

    /// Settles every request in flight with `failure` (the whole connection is gone).
    pub fn fail_all(&mut self, failure: &RequestFailure) {
        self.fail_matching(|_| true, failure);
    }

    /// The next request that ended. Call after every `handle_*`, `cancel` and `fail_*` until it
    /// returns `None`.
    #[must_use]
    pub fn poll_settled(&mut self) -> Option<Settled> {
        self.settled.pop_front()
    }

    /// The earliest deadline among requests in flight, to pass to `handle_timeout` when it comes.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(deadline, _)| *deadline)
    }

    /// Requests in flight.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is in flight.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Whether `id` is in flight.
    #[must_use]
    pub fn contains(&self, id: &RequestId) -> bool {
        self.pending.contains_key(id)
    }

    /// The method of the request `id`, while it is in flight.
    #[must_use]
    pub fn method(&self, id: &RequestId) -> Option<&str> {
        self.pending.get(id).map(|p| p.method.as_str())
    }

    fn fail_matching(&mut self, affected: impl Fn(&Pending) -> bool, failure: &RequestFailure) {
        let mut ids: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, pending)| affected(pending))
            .map(|(id, _)| id.clone())
            .collect();
        // Settle in the order the requests were sent, so callers see a stable order.
        // Ids come from a counter, so (send time, id) is the order the requests were issued.
        ids.sort_by_cached_key(|id| (self.pending.get(id).map(|p| p.sent_at), id.clone()));
        for id in ids {
            self.settle(&id, Outcome::Failed(failure.clone()), false);
        }
    }

    /// The one place a request ends: it leaves every index and one `Settled` is queued. A
    /// second call for the same id finds nothing and returns `None`.
    fn settle(&mut self, id: &RequestId, outcome: Outcome, notify_peer: bool) -> Option<()> {
        let pending = self.pending.remove(id)?;
        if let Some(deadline) = pending.deadline {
            self.deadlines.remove(&(deadline, id.clone()));
        }
        if let Some(token) = &pending.progress_token {
            self.by_progress_token.remove(token);
        }
        self.settled.push_back(Settled {
            id: id.clone(),
            method: pending.method,
            outcome,
            scope: pending.scope,
            notify_peer,
        });
        Some(())
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Why an inbound request or its answer was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// The peer reused an id that is still in flight (-32600 to the peer).
    #[error("request id {0} is already in flight")]
    DuplicateId(RequestId),
    /// The peer has too many requests in flight (answered with an error, not processed).
    #[error("{max} peer requests are already in flight")]
    TooManyPending {
        /// The limit.
        max: usize,
    },
    /// Our side tried to answer a request that is not in flight (never received, already
    /// answered, or cancelled by the peer).
    #[error("request {0} is not awaiting an answer")]
    NotPending(RequestId),
}

/// Requests the peer sent that this side owes an answer to. See the [module docs](self).
#[derive(Debug)]
pub struct InboundRequests {
    max_pending: usize,
    in_flight: HashMap<RequestId, InboundRequest>,
}

/// A peer request awaiting our answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRequest {
    /// Its method.
    pub method: String,
    /// The transport scope it arrived on; the answer goes back there.
    pub scope: TransportScope,
}

impl InboundRequests {
    /// An empty table bounded by `limits.max_pending`.
    #[must_use]
    pub fn new(limits: PendingLimits) -> Self {
        Self {
            max_pending: limits.max_pending,
            in_flight: HashMap::new(),
        }
    }

    /// Records a request from the peer.
    ///
    /// # Errors
    /// [`InboundError::DuplicateId`] or [`InboundError::TooManyPending`]; nothing is recorded.
    pub fn begin(
        &mut self,
        id: &RequestId,
        method: &str,
        scope: TransportScope,
    ) -> Result<(), InboundError> {
        if self.in_flight.len() >= self.max_pending {
            return Err(if self.in_flight.contains_key(id) {
                InboundError::DuplicateId(id.clone())
            } else {
                InboundError::TooManyPending {
                    max: self.max_pending,
                }
            });
        }
        // One lookup for the duplicate check and the insertion (only below the bound: a vacant
        // entry reserves room for its insertion).
        match self.in_flight.entry(id.clone()) {
            Entry::Occupied(_) => Err(InboundError::DuplicateId(id.clone())),
            Entry::Vacant(slot) => {
                slot.insert(InboundRequest {
                    method: method.to_owned(),
                    scope,
                });
                Ok(())
            }
        }
    }

    /// Marks `id` answered and returns what it was; the answer may be sent.
    ///
    /// # Errors
    /// [`InboundError::NotPending`] when it was already answered, cancelled or never received:
    /// the answer must not be sent.
    pub fn finish(&mut self, id: &RequestId) -> Result<InboundRequest, InboundError> {
        self.in_flight
            .remove(id)
            .ok_or_else(|| InboundError::NotPending(id.clone()))
    }

    /// The peer cancelled `id`: its answer will not be sent. Returns whether it was in flight.
    pub fn cancel(&mut self, id: &RequestId) -> bool {
        self.in_flight.remove(id).is_some()
    }

    /// The peer requests that arrived on `scope` and await an answer.
    #[must_use]
    pub fn on_scope(&self, scope: TransportScope) -> Vec<RequestId> {
        let mut ids: Vec<RequestId> = self
            .in_flight
            .iter()
            .filter(|(_, r)| r.scope == scope)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Forgets every request (the connection is gone; there is no one to answer) and returns
    /// how many were abandoned.
    pub fn clear(&mut self) -> usize {
        let abandoned = self.in_flight.len();
        self.in_flight.clear();
        abandoned
    }

    /// Requests awaiting an answer.
    #[must_use]
    pub fn len(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether nothing awaits an answer.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }

    /// Whether `id` awaits an answer.
    #[must_use]
    pub fn contains(&self, id: &RequestId) -> bool {
        self.in_flight.contains_key(id)
    }
}
