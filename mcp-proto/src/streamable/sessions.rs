//! Legacy (2025-era) Streamable HTTP sessions: a bounded table keyed by `Mcp-Session-Id`, with
//! idle expiry driven by `now`.
//!
//! The id is minted from entropy the caller passes in (the core never reads an RNG), so an
//! adapter supplies 16+ bytes from the OS per session. A request without an id where one is
//! needed is answered 400; an unknown, expired or deleted id 404 — the client then starts a new
//! session with `initialize`. A full table refuses new sessions with 503 rather than evicting a
//! live one.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use http::StatusCode;

use crate::http::{SessionId, SessionIdError};

/// The default idle time after which a session expires.
pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The default largest number of live sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 1024;

/// Bounds of a [`SessionTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Sessions alive at once; beyond it new ones are refused (503).
    pub max_sessions: usize,
    /// Idle time after which a session expires.
    pub idle_timeout: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            max_sessions: DEFAULT_MAX_SESSIONS,
            idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
        }
    }
}

/// Why a session could not be used or created. Each maps to its HTTP status.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The request needs a session and carried no `Mcp-Session-Id` (400).
    #[error("missing Mcp-Session-Id")]
    Missing,
    /// No live session has that id: never created, expired or deleted (404).
    #[error("unknown or expired session")]
    Unknown,
    /// The table is full (503); existing sessions are never evicted to make room.
    #[error("the server holds the maximum of {max} sessions")]
    Full {
        /// The limit.
        max: usize,
    },
    /// The entropy given to mint an id was unusable (the caller's fault).
    #[error("cannot mint a session id: {0}")]
    Entropy(SessionIdError),
    /// The minted id is already in use (the entropy repeated: a broken random source).
    #[error("the minted session id is already in use")]
    Collision,
}

impl SessionError {
    /// The HTTP status for this error.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Missing => StatusCode::BAD_REQUEST,
            Self::Unknown => StatusCode::NOT_FOUND,
            Self::Full { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Entropy(_) | Self::Collision => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug)]
struct Entry<T> {
    state: T,
    /// `None`: the idle timeout is too large to represent, so the session never expires.
    expires_at: Option<Instant>,
    /// The session's place in `expiries`. Activity only moves `expires_at` later, so the
    /// listed time is at most the real one: when it comes, the session is listed again at its
    /// real expiry instead of being moved in the set on every request.
    listed_at: Option<Instant>,
}

/// Live legacy sessions, each holding the caller's per-session state `T` (typically a
/// `ServerEndpoint` and its streams).
#[derive(Debug)]
pub struct SessionTable<T> {
    limits: SessionLimits,
    /// Boxed: a table grows to about twice its sessions' worth of slots, and a session's state
    /// (an endpoint) is large, so the empty slots stay a pointer's size.
    sessions: HashMap<SessionId, Box<Entry<T>>>,
    /// Every session that expires, at or before its expiry (see `Entry::listed_at`).
    expiries: BTreeSet<(Instant, SessionId)>,
    /// Sessions that expired, waiting for the caller to close them.
    expired: Vec<(SessionId, T)>,
}

impl<T> SessionTable<T> {
    /// An empty table.
    #[must_use]
    pub fn new(limits: SessionLimits) -> Self {
        Self {
            limits,
            sessions: HashMap::new(),
            expiries: BTreeSet::new(),
            expired: Vec::new(),
        }
    }

    /// Creates a session with an id minted from `entropy` (16 bytes or more from a
    /// cryptographic source) and returns the id to send in `Mcp-Session-Id`.
    ///
    /// # Errors
    /// [`SessionError::Full`], [`SessionError::Entropy`] or [`SessionError::Collision`];
    /// nothing is created.
    pub fn create(
        &mut self,
        now: Instant,
        entropy: &[u8],
        state: T,
    ) -> Result<SessionId, SessionError> {
        self.handle_timeout(now);
        if self.sessions.len() >= self.limits.max_sessions {
            return Err(SessionError::Full {
                max: self.limits.max_sessions,
            });
        }
        let id = SessionId::from_entropy(entropy).map_err(SessionError::Entropy)?;
        if self.sessions.contains_key(&id) {
            return Err(SessionError::Collision);
        }
        let expires_at = self.expiry(now);
        if let Some(at) = expires_at {
            self.expiries.insert((at, id.clone()));
        }
        self.sessions.insert(
            id.clone(),
            Box::new(Entry {
                state,
                expires_at,
                listed_at: expires_at,
            }),
        );
        Ok(id)
    }

    /// The live session named by a request's `Mcp-Session-Id` (`None` when the header was
    /// absent); using it counts as activity and pushes its expiry back.
    ///
    /// # Errors
    /// [`SessionError::Missing`] (400) or [`SessionError::Unknown`] (404).
    pub fn get_mut(
        &mut self,
        now: Instant,
        id: Option<&SessionId>,
    ) -> Result<&mut T, SessionError> {
        let id = id.ok_or(SessionError::Missing)?;
        self.handle_timeout(now);
        let expiry = self.expiry(now);
        let entry = self.sessions.get_mut(id).ok_or(SessionError::Unknown)?;
        entry.expires_at = expiry;
        if entry.listed_at.is_none()
            && let Some(at) = expiry
        {
            self.expiries.insert((at, id.clone()));
            entry.listed_at = Some(at);
        }
        Ok(&mut entry.state)
    }

    /// Ends a session (HTTP DELETE) and returns its state so the caller can close it.
    ///
    /// # Errors
    /// [`SessionError::Unknown`] (404).
    pub fn remove(&mut self, id: &SessionId) -> Result<T, SessionError> {
        let entry = self.sessions.remove(id).ok_or(SessionError::Unknown)?;
        if let Some(at) = entry.listed_at {
            self.expiries.remove(&(at, id.clone()));
        }
        Ok(entry.state)
    }

    /// Expires every session idle past its deadline (also done by `create` and `get_mut`, so
    /// an expired id is never served). Their state waits in [`SessionTable::poll_expired`].
    pub fn handle_timeout(&mut self, now: Instant) {
        while self
            .expiries
            .first()
            .is_some_and(|(listed, _)| *listed <= now)
        {
            let Some((_, id)) = self.expiries.pop_first() else {
                break;
            };
            let Some(entry) = self.sessions.get_mut(&id) else {
                continue;
            };
            match entry.expires_at {
                // Used since it was listed: list it again at its real expiry.
                Some(at) if at > now => {
                    entry.listed_at = Some(at);
                    self.expiries.insert((at, id));
                }
                Some(_) => {
                    if let Some(entry) = self.sessions.remove(&id) {
                        self.expired.push((id, entry.state));
                    }
                }
                None => entry.listed_at = None,
            }
        }
    }

    /// The next expired session, to close (drain after every call that takes `now`).
    pub fn poll_expired(&mut self) -> Option<(SessionId, T)> {
        self.expired.pop()
    }

    /// When to call [`SessionTable::handle_timeout`] next: when the next session expires, or
    /// earlier (a session used since it was scheduled is then scheduled again).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.expiries.first().map(|(deadline, _)| *deadline)
    }

    /// The state of session `id` without counting it as activity (for the server's own work,
    /// not the client's requests).
    pub fn peek_mut(&mut self, id: &SessionId) -> Option<&mut T> {
        self.sessions.get_mut(id).map(|entry| &mut entry.state)
    }

    /// The state of session `id`, read-only.
    #[must_use]
    pub fn peek(&self, id: &SessionId) -> Option<&T> {
        self.sessions.get(id).map(|entry| &entry.state)
    }

    /// Every live session, read-only (e.g. to collect deadlines).
    pub fn iter(&self) -> impl Iterator<Item = (&SessionId, &T)> {
        self.sessions.iter().map(|(id, entry)| (id, &entry.state))
    }

    /// Every live session.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&SessionId, &mut T)> {
        self.sessions
            .iter_mut()
            .map(|(id, entry)| (id, &mut entry.state))
    }

    /// Live sessions.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether there are no live sessions.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    fn expiry(&self, now: Instant) -> Option<Instant> {
        now.checked_add(self.limits.idle_timeout)
    }
}
