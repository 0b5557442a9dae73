//! Many HTTP sessions driven from one thread: their connections made non-blocking on one
//! epoll (mio), each session a closed loop (the next call is sent when the answer to the
//! previous one is complete). One thread waking once for a batch of ready connections costs
//! the load tool far less per call than a blocked thread per session, each woken by the
//! scheduler for every answer.
//!
//! Sessions are opened (and reopened, when the server lost one or a connection broke) with
//! the blocking [`Session`] code; a lost session or broken connection stalls the loop for that
//! handshake, which is counted as a failure anyway.

use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Registry, Token};

use crate::error::CallError;
use crate::http::{Connection, HttpLoad, ReadOutcome, ResponseInfo, Session};
use crate::run::{Phase, PhaseState, SessionStats};
use crate::wire::{self, CallBuilder};

/// The longest the loop sleeps without looking at the phase, deadlines and retries.
const TICK: Duration = Duration::from_millis(20);
/// The pause before a failed session or connection is opened again.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// One session and its call in flight.
#[derive(Debug)]
struct Slot {
    /// The session number (in messages and ids).
    index: u32,
    session: Option<Session>,
    /// Whether `session` was ever opened (a second opening is a reopening).
    opened_before: bool,
    conn: Option<Connection<mio::net::TcpStream>>,
    /// When to try again to open the session or its connection, while it has none.
    retry_at: Option<Instant>,
    seq: u64,
    id: u64,
    message: String,
    body: Vec<u8>,
    /// When the call in flight was sent.
    started: Option<Instant>,
}

/// What the loop needs besides the slots.
struct Context<'a> {
    load: &'a HttpLoad,
    builder: &'a CallBuilder,
    phase: &'a Phase,
    registry: Registry,
    stats: SessionStats,
}

impl Context<'_> {
    /// Opens the slot's session if needed and registers its connection; starts a call.
    fn bring_up(&mut self, token: usize, slot: &mut Slot) {
        match self.connect(token, slot) {
            Ok(()) => {
                slot.retry_at = None;
                self.start_call(slot);
            }
            Err(error) => {
                self.stats.errors.add(&error);
                slot.conn = None;
                slot.retry_at = Some(Instant::now() + RETRY_PAUSE);
            }
        }
    }

    fn connect(&mut self, token: usize, slot: &mut Slot) -> Result<(), CallError> {
        if slot.session.is_none() {
            let session = Session::open(&self.load.target, self.load.era, self.load.call_timeout)?;
            if slot.opened_before {
                self.stats.reopened += 1;
            }
            slot.opened_before = true;
            slot.session = Some(session);
        }
        let session = slot
            .session
            .as_mut()
            .ok_or_else(|| CallError::Io("no session".into()))?;
        let mut conn = session.connected()?.into_nonblocking()?;
        self.registry
            .register(
                &mut conn.stream,
                Token(token),
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(|e| CallError::io(&e))?;
        slot.conn = Some(conn);
        Ok(())
    }

    /// Sends the slot's next call, unless the run is stopping.
    fn start_call(&mut self, slot: &mut Slot) {
        if self.phase.get() == PhaseState::Stop {
            return;
        }
        let (Some(session), Some(conn)) = (slot.session.as_ref(), slot.conn.as_mut()) else {
            return;
        };
        slot.seq += 1;
        self.builder
            .message(slot.index, slot.seq, &mut slot.message);
        slot.id = if self.load.same_ids {
            slot.seq
        } else {
            (u64::from(slot.index) << 32) | slot.seq
        };
        slot.body.clear();
        self.builder
            .write_call(slot.id, &slot.message, &mut slot.body);
        conn.queue_post(session.head(), &slot.body);
        slot.started = Some(Instant::now());
        if let Err(error) = conn.write_some() {
            self.drop_connection(slot, &error);
        }
    }

    /// Counts `error` and drops the slot's connection (and its session, if the server lost
    /// it); the slot is brought up again after a pause.
    fn drop_connection(&mut self, slot: &mut Slot, error: &CallError) {
        self.stats.errors.add(error);
        if slot.session.as_ref().is_some_and(|s| s.lost(error)) {
            slot.session = None;
        }
        slot.conn = None;
        slot.started = None;
        slot.retry_at = Some(Instant::now() + RETRY_PAUSE);
    }

    /// The response to the slot's call is complete: check it, count it, send the next.
    fn finish_call(&mut self, slot: &mut Slot, info: &ResponseInfo) {
        let elapsed = slot.started.take().map(|at| at.elapsed());
        let Some(conn) = slot.conn.as_ref() else {
            return;
        };
        let checked = conn
            .reader
            .answer(info)
            .and_then(|answer| wire::check_echo(answer, slot.id, &slot.message));
        match checked {
            Ok(()) => {
                if self.phase.get() == PhaseState::Measure
                    && let Some(elapsed) = elapsed
                {
                    self.stats.calls += 1;
                    self.stats.hist.record(elapsed);
                }
            }
            Err(error) => {
                if slot.session.as_ref().is_some_and(|s| s.lost(&error)) {
                    self.drop_connection(slot, &error);
                    return;
                }
                self.stats.errors.add(&error);
            }
        }
        if !info.is_reusable() {
            // The server closes the connection after this response: not a failure.
            slot.conn = None;
            slot.retry_at = Some(Instant::now());
            return;
        }
        self.start_call(slot);
    }

    /// Writes and reads what the slot's connection is ready for.
    fn service(&mut self, slot: &mut Slot) {
        if let Some(conn) = slot.conn.as_mut()
            && let Err(error) = conn.write_some()
        {
            self.drop_connection(slot, &error);
            return;
        }
        loop {
            let Some(conn) = slot.conn.as_mut() else {
                return;
            };
            let outcome = match conn.read_some() {
                Ok(outcome) => outcome,
                Err(error) => {
                    self.drop_connection(slot, &error);
                    return;
                }
            };
            match outcome {
                ReadOutcome::WouldBlock => return,
                ReadOutcome::Data => loop {
                    let Some(conn) = slot.conn.as_mut() else {
                        return;
                    };
                    match conn.advance() {
                        Ok(Some(info)) if slot.started.is_some() => {
                            self.finish_call(slot, &info);
                        }
                        Ok(Some(_)) => {
                            // A response nobody asked for.
                            self.drop_connection(
                                slot,
                                &CallError::Malformed("a response without a request".into()),
                            );
                            return;
                        }
                        Ok(None) => break,
                        Err(error) => {
                            self.drop_connection(slot, &error);
                            return;
                        }
                    }
                },
                ReadOutcome::Eof => {
                    if slot.started.is_none() {
                        // The server closed an idle keep-alive connection: connect again.
                        slot.conn = None;
                        slot.retry_at = Some(Instant::now());
                        return;
                    }
                    match conn.end_of_stream() {
                        Ok(info) => self.finish_call(slot, &info),
                        Err(error) => self.drop_connection(slot, &error),
                    }
                    return;
                }
            }
        }
    }
}

/// Drives `sessions` (numbered, opened or not yet) until the phase says stop and every call
/// in flight has its answer (or timed out).
pub(crate) fn drive(
    load: &HttpLoad,
    sessions: Vec<(u32, Option<Session>)>,
    builder: &CallBuilder,
    phase: &Phase,
) -> SessionStats {
    let mut stats = SessionStats::new();
    let (mut poll, registry) = match Poll::new().and_then(|poll| {
        let registry = poll.registry().try_clone()?;
        Ok((poll, registry))
    }) {
        Ok(pair) => pair,
        Err(error) => {
            stats.errors.add(&CallError::io(&error));
            return stats;
        }
    };
    let mut slots: Vec<Slot> = sessions
        .into_iter()
        .map(|(index, session)| Slot {
            index,
            opened_before: session.is_some(),
            session,
            conn: None,
            retry_at: Some(Instant::now()),
            seq: 0,
            id: 0,
            message: String::new(),
            body: Vec::new(),
            started: None,
        })
        .collect();
    let mut context = Context {
        load,
        builder,
        phase,
        registry,
        stats,
    };
    let mut events = Events::with_capacity(slots.len().clamp(16, 1024));
    loop {
        let stopping = phase.get() == PhaseState::Stop;
        if stopping && slots.iter().all(|s| s.started.is_none()) {
            break;
        }
        let now = Instant::now();
        for (token, slot) in slots.iter_mut().enumerate() {
            if slot
                .started
                .is_some_and(|at| now.duration_since(at) > load.call_timeout)
            {
                let timeout = CallError::Timeout(load.call_timeout.as_millis());
                context.drop_connection(slot, &timeout);
            }
            if !stopping && slot.conn.is_none() && slot.retry_at.is_some_and(|at| at <= now) {
                context.bring_up(token, slot);
            }
        }
        if let Err(error) = poll.poll(&mut events, Some(TICK)) {
            if error.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            context.stats.errors.add(&CallError::io(&error));
            break;
        }
        for event in &events {
            if let Some(slot) = slots.get_mut(event.token().0) {
                context.service(slot);
            }
        }
    }
    context.stats
}
