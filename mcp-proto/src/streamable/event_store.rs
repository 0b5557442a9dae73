//! SSE resumability for legacy sessions (2025-11-25 "SSE polling", SEP-1699): event ids and the
//! store that replays what a client missed when it reconnects with `GET` + `Last-Event-ID`.
//!
//! Every SSE stream of a legacy session is numbered by the exchange that opened it, and its
//! events by a sequence starting at the priming event (0). An [`EventId`] is written
//! `<stream>-<seq>`: unique across all streams of a server (so within a session, as the spec
//! requires) and naming its stream, so a resumed `GET` replays only that stream's events.
//!
//! [`EventStore`] is the replay buffer; [`MemoryEventStore`] is the bounded default.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;

use crate::http::SessionId;

/// The default number of events a [`MemoryEventStore`] keeps per session.
pub const DEFAULT_EVENTS_PER_SESSION: usize = 256;
/// The default number of data bytes a [`MemoryEventStore`] keeps per session.
pub const DEFAULT_BYTES_PER_SESSION: usize = 1024 * 1024;
/// The default number of data bytes a [`MemoryEventStore`] keeps in all.
pub const DEFAULT_TOTAL_BYTES: usize = 64 * 1024 * 1024;

/// The id of one SSE event of a legacy session: `<stream>-<seq>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId {
    /// The stream: the number of the exchange that opened it.
    pub stream: u64,
    /// The event's place in its stream; the priming event is 0.
    pub seq: u64,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.stream, self.seq)
    }
}

/// A `Last-Event-ID` that this server did not write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an event id of this server (expected <stream>-<seq>)")]
pub struct InvalidEventId;

impl FromStr for EventId {
    type Err = InvalidEventId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (stream, seq) = text.split_once('-').ok_or(InvalidEventId)?;
        let digits = |s: &str| -> Result<u64, InvalidEventId> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InvalidEventId);
            }
            s.parse().map_err(|_| InvalidEventId)
        };
        Ok(Self {
            stream: digits(stream)?,
            seq: digits(seq)?,
        })
    }
}

/// An event kept for replay: its id and its `data` (one encoded JSON-RPC message, or empty for
/// the priming event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its id.
    pub id: EventId,
    /// Its data.
    pub data: String,
}

/// Where the events of legacy sessions are kept for replay. Implementations must be bounded:
/// an event they no longer hold makes [`EventStore::replay`] answer `None`, and the client's
/// resumption is refused rather than silently missing events.
pub trait EventStore: Send {
    /// Keep `data` as event `id` of `session`. An event that is not kept (too large, no room)
    /// must also make every earlier event of its stream unavailable for [`EventStore::replay`]:
    /// a replay from one of them would skip it.
    fn append(&mut self, session: &SessionId, id: EventId, data: &str);
    /// The events of stream `after.stream` that follow `after`, oldest first. `None` when
    /// `after` itself is no longer (or was never) held: what followed it cannot be known.
    fn replay(&mut self, session: &SessionId, after: EventId) -> Option<Vec<StoredEvent>>;
    /// The session ended: drop its events.
    fn end_session(&mut self, session: &SessionId);
}

/// Bounds of a [`MemoryEventStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEventStoreLimits {
    /// Events kept per session; the oldest go first.
    pub events_per_session: usize,
    /// Data bytes kept per session; the oldest go first.
    pub bytes_per_session: usize,
    /// Data bytes kept in all. A session appending beyond it drops its own oldest events,
    /// then stores nothing more until others end.
    pub total_bytes: usize,
}

impl Default for MemoryEventStoreLimits {
    fn default() -> Self {
        Self {
            events_per_session: DEFAULT_EVENTS_PER_SESSION,
            bytes_per_session: DEFAULT_BYTES_PER_SESSION,
            total_bytes: DEFAULT_TOTAL_BYTES,
        }
    }
}

#[derive(Debug, Default)]
struct SessionEvents {
    events: VecDeque<StoredEvent>,
    bytes: usize,
}

/// The default [`EventStore`]: the latest events of each session in memory, bounded by count
/// and bytes per session and by bytes in all.
#[derive(Debug, Default)]
pub struct MemoryEventStore {
    limits: MemoryEventStoreLimits,
    sessions: HashMap<SessionId, SessionEvents>,
    total_bytes: usize,
}

impl MemoryEventStore {
    /// An empty store with `limits`.
    #[must_use]
    pub fn new(limits: MemoryEventStoreLimits) -> Self {
        Self {
            limits,
            sessions: HashMap::new(),
            total_bytes: 0,
        }
    }

    /// Data bytes held in all.
    #[must_use]
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    /// Events held for `session`.
    #[must_use]
    pub fn len(&self, session: &SessionId) -> usize {
        self.sessions.get(session).map_or(0, |s| s.events.len())
    }

    /// Drops the events of `session`'s stream `stream` (one of them could not be kept).
    fn forget_stream(&mut self, session: &SessionId, stream: u64) {
        let Some(entry) = self.sessions.get_mut(session) else {
            return;
        };
        let mut dropped = 0;
        entry.events.retain(|event| {
            let keep = event.id.stream != stream;
            if !keep {
                dropped += event.data.len();
            }
            keep
        });
        entry.bytes -= dropped;
        self.total_bytes -= dropped;
    }
}

impl EventStore for MemoryEventStore {
    fn append(&mut self, session: &SessionId, id: EventId, data: &str) {
        let limits = self.limits;
        if data.len() > limits.bytes_per_session || data.len() > limits.total_bytes {
            // Too big to keep at all. Resuming from an event after it works (what follows is
            // kept), but a replay from an earlier event of its stream would skip it: those are
            // forgotten, so that such a resumption is refused instead.
            self.forget_stream(session, id.stream);
            return;
        }
        let entry = self.sessions.entry(session.clone()).or_default();
        while !entry.events.is_empty()
            && (entry.events.len() >= limits.events_per_session
                || entry.bytes + data.len() > limits.bytes_per_session
                || self.total_bytes + data.len() > limits.total_bytes)
        {
            if let Some(old) = entry.events.pop_front() {
                entry.bytes -= old.data.len();
                self.total_bytes -= old.data.len();
            }
        }
        if limits.events_per_session == 0 || self.total_bytes + data.len() > limits.total_bytes {
            // Not kept (the session's own events are all evicted by now): the same holds.
            self.forget_stream(session, id.stream);
            return;
        }
        entry.bytes += data.len();
        self.total_bytes += data.len();
        entry.events.push_back(StoredEvent {
            id,
            data: data.to_owned(),
        });
    }

    fn replay(&mut self, session: &SessionId, after: EventId) -> Option<Vec<StoredEvent>> {
        let events = &self.sessions.get(session)?.events;
        let at = events.iter().position(|e| e.id == after)?;
        Some(
            events
                .iter()
                .skip(at.saturating_add(1))
                .filter(|e| e.id.stream == after.stream)
                .cloned()
                .collect(),
        )
    }

    fn end_session(&mut self, session: &SessionId) {
        if let Some(gone) = self.sessions.remove(session) {
            self.total_bytes -= gone.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(byte: u8) -> SessionId {
        SessionId::from_entropy(&[byte; 16]).unwrap()
    }

    fn id(stream: u64, seq: u64) -> EventId {
        EventId { stream, seq }
    }

    #[test]
    fn event_ids_round_trip_and_reject_foreign_text() {
        let original = id(42, 7);
        assert_eq!(original.to_string(), "42-7");
        assert_eq!("42-7".parse::<EventId>(), Ok(original));
        for bad in ["", "42", "42-", "-7", "a-1", "1-b", "1-2-3", "+1-2", "1- 2"] {
            assert_eq!(bad.parse::<EventId>(), Err(InvalidEventId), "{bad:?}");
        }
    }

    #[test]
    fn replay_returns_only_later_events_of_the_same_stream() {
        let mut store = MemoryEventStore::default();
        let s = session(1);
        store.append(&s, id(1, 0), "");
        store.append(&s, id(2, 0), "");
        store.append(&s, id(1, 1), "a");
        store.append(&s, id(2, 1), "x");
        store.append(&s, id(1, 2), "b");
        let replayed = store.replay(&s, id(1, 0)).unwrap();
        let data: Vec<&str> = replayed.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["a", "b"]);
        assert_eq!(store.replay(&s, id(1, 2)).unwrap(), []);
        // Another session never sees these events.
        assert_eq!(store.replay(&session(2), id(1, 0)), None);
        // An id the store never held.
        assert_eq!(store.replay(&s, id(9, 0)), None);
    }

    #[test]
    fn eviction_makes_replay_refuse_instead_of_skipping() {
        let limits = MemoryEventStoreLimits {
            events_per_session: 3,
            ..MemoryEventStoreLimits::default()
        };
        let mut store = MemoryEventStore::new(limits);
        let s = session(1);
        for seq in 0..5 {
            store.append(&s, id(1, seq), "data");
        }
        assert_eq!(store.len(&s), 3);
        assert_eq!(store.replay(&s, id(1, 1)), None);
        assert_eq!(store.replay(&s, id(1, 2)).unwrap().len(), 2);
    }

    #[test]
    fn byte_bounds_hold_per_session_and_in_all() {
        let limits = MemoryEventStoreLimits {
            events_per_session: 100,
            bytes_per_session: 10,
            total_bytes: 15,
        };
        let mut store = MemoryEventStore::new(limits);
        let (a, b) = (session(1), session(2));
        for seq in 0..4 {
            store.append(&a, id(1, seq), "abcd");
        }
        assert!(store.len(&a) <= 2);
        for seq in 0..4 {
            store.append(&b, id(2, seq), "abcd");
        }
        assert!(store.total_bytes() <= 15, "{}", store.total_bytes());
        // On another stream than the events above: it would make them unavailable too.
        store.append(&a, id(3, 9), "this is far too long");
        assert_eq!(store.replay(&a, id(3, 9)), None);
        let before = store.total_bytes();
        store.end_session(&a);
        assert!(store.total_bytes() < before);
        assert_eq!(store.len(&a), 0);
    }
}
