//! Protocol versions, eras, and the version-negotiation rules as pure functions.
//!
//! Revisions are dates (`YYYY-MM-DD`). 2025-11-25 and earlier are **legacy** (an `initialize`
//! handshake negotiates the version once); 2026-07-28 and later are **modern** (each request
//! names its version in `_meta`, and the server answers -32022 when it does not support it).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::errors::UnsupportedProtocolVersionData;

/// An MCP protocol version. Known revisions have their own variant; anything else is kept
/// verbatim in [`ProtocolVersion::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// `2024-11-05` (legacy; HTTP+SSE transport).
    V2024_11_05,
    /// `2025-03-26` (legacy; Streamable HTTP, JSON-RPC batches).
    V2025_03_26,
    /// `2025-06-18` (legacy; batches removed, structured tool output, elicitation).
    V2025_06_18,
    /// `2025-11-25` (legacy; the newest `initialize`-era revision).
    V2025_11_25,
    /// `2026-07-28` (modern; stateless).
    V2026_07_28,
    /// Any other value (unknown, future, `draft`, garbage).
    Other(String),
}

/// The two protocol eras.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// 2025-11-25 and earlier: `initialize` handshake, sessions, server-to-client requests.
    Legacy,
    /// 2026-07-28 and later: per-request `_meta`, `server/discover`, MRTR.
    Modern,
}

/// The newest revision.
pub const LATEST: ProtocolVersion = ProtocolVersion::V2026_07_28;
/// The newest legacy revision (what a dual-era server answers `initialize` with).
pub const LATEST_LEGACY: ProtocolVersion = ProtocolVersion::V2025_11_25;
/// The first modern revision.
pub const FIRST_MODERN: ProtocolVersion = ProtocolVersion::V2026_07_28;
/// Every revision this crate knows, oldest first.
pub const KNOWN: [ProtocolVersion; 5] = [
    ProtocolVersion::V2024_11_05,
    ProtocolVersion::V2025_03_26,
    ProtocolVersion::V2025_06_18,
    ProtocolVersion::V2025_11_25,
    ProtocolVersion::V2026_07_28,
];
/// The modern revisions this crate implements, newest first.
pub const SUPPORTED_MODERN: [ProtocolVersion; 1] = [ProtocolVersion::V2026_07_28];
/// The legacy revisions this crate implements, newest first.
pub const SUPPORTED_LEGACY: [ProtocolVersion; 4] = [
    ProtocolVersion::V2025_11_25,
    ProtocolVersion::V2025_06_18,
    ProtocolVersion::V2025_03_26,
    ProtocolVersion::V2024_11_05,
];
/// Every revision this crate implements, newest first.
pub const SUPPORTED: [ProtocolVersion; 5] = [
    ProtocolVersion::V2026_07_28,
    ProtocolVersion::V2025_11_25,
    ProtocolVersion::V2025_06_18,
    ProtocolVersion::V2025_03_26,
    ProtocolVersion::V2024_11_05,
];

/// The last legacy date and the first modern date.
const LAST_LEGACY_DATE: &str = "2025-11-25";
const FIRST_MODERN_DATE: &str = "2026-07-28";

impl ProtocolVersion {
    /// Classifies a wire value.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        match value {
            "2024-11-05" => Self::V2024_11_05,
            "2025-03-26" => Self::V2025_03_26,
            "2025-06-18" => Self::V2025_06_18,
            "2025-11-25" => Self::V2025_11_25,
            "2026-07-28" => Self::V2026_07_28,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
            Self::Other(other) => other,
        }
    }

    /// True for the revisions this crate knows (not [`ProtocolVersion::Other`]).
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// True when the value has the `YYYY-MM-DD` shape of a revision.
    #[must_use]
    pub fn is_date_shaped(&self) -> bool {
        let bytes = self.as_str().as_bytes();
        bytes.len() == 10
            && bytes.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            })
    }

    /// The era of a date-shaped version: legacy up to 2025-11-25, modern from 2026-07-28.
    /// `None` for other strings and for dates between the two (no such revision exists).
    #[must_use]
    pub fn era(&self) -> Option<Era> {
        if !self.is_date_shaped() {
            return None;
        }
        let date = self.as_str();
        if date <= LAST_LEGACY_DATE {
            Some(Era::Legacy)
        } else if date >= FIRST_MODERN_DATE {
            Some(Era::Modern)
        } else {
            None
        }
    }

    /// True for legacy-era versions.
    #[must_use]
    pub fn is_legacy(&self) -> bool {
        self.era() == Some(Era::Legacy)
    }

    /// True for modern-era versions.
    #[must_use]
    pub fn is_modern(&self) -> bool {
        self.era() == Some(Era::Modern)
    }

    /// True when the receiver must accept JSON-RPC batches (`2025-03-26` only).
    #[must_use]
    pub fn has_batches(&self) -> bool {
        *self == Self::V2025_03_26
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ProtocolVersion {
    fn from(value: &str) -> Self {
        Self::parse(value)
    }
}

impl From<String> for ProtocolVersion {
    fn from(value: String) -> Self {
        match Self::parse(&value) {
            Self::Other(_) => Self::Other(value),
            known => known,
        }
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// The newest date-shaped version in `versions` that satisfies `keep`.
fn newest<'a>(
    versions: impl IntoIterator<Item = &'a ProtocolVersion>,
    keep: impl Fn(&ProtocolVersion) -> bool,
) -> Option<&'a ProtocolVersion> {
    versions
        .into_iter()
        .filter(|v| v.is_date_shaped() && keep(v))
        .max_by(|a, b| a.as_str().cmp(b.as_str()))
}

/// Legacy `initialize`, server side: the version to answer with.
///
/// "If the server supports the requested protocol version, it MUST respond with the same
/// version. Otherwise, the server MUST respond with another protocol version it supports. This
/// SHOULD be the latest version supported by the server." Only legacy versions count: an
/// `initialize` handshake never yields a modern version, so a dual-era server asked for
/// `2026-07-28` through `initialize` offers its newest legacy version.
///
/// `None` when `supported` contains no legacy version (a modern-only server; it answers
/// `initialize` with an error naming its versions).
#[must_use]
pub fn negotiate_legacy_server(
    requested: &str,
    supported: &[ProtocolVersion],
) -> Option<ProtocolVersion> {
    let requested = ProtocolVersion::parse(requested);
    if requested.is_legacy() && supported.contains(&requested) {
        return Some(requested);
    }
    newest(supported, ProtocolVersion::is_legacy).cloned()
}

/// Why a client refuses the version an `initialize` result names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegacyNegotiationError {
    /// The client does not support the version; it SHOULD disconnect.
    #[error("server chose unsupported protocol version {0:?}")]
    Unsupported(String),
    /// The version is not a legacy version, which an `initialize` handshake cannot produce.
    #[error("server chose {0:?}, which is not a legacy protocol version")]
    NotLegacy(String),
}

/// Legacy `initialize`, client side: accepts the server's version only if the client supports
/// it (and it is a legacy version).
///
/// # Errors
/// [`LegacyNegotiationError`]: the client SHOULD disconnect.
pub fn negotiate_legacy_client(
    offered: &str,
    supported: &[ProtocolVersion],
) -> Result<ProtocolVersion, LegacyNegotiationError> {
    let offered_version = ProtocolVersion::parse(offered);
    if !offered_version.is_legacy() {
        return Err(LegacyNegotiationError::NotLegacy(offered.to_owned()));
    }
    if supported.contains(&offered_version) {
        Ok(offered_version)
    } else {
        Err(LegacyNegotiationError::Unsupported(offered.to_owned()))
    }
}

/// Modern, server side: accepts a request's `protocolVersion` when it is a supported modern
/// version; otherwise returns the `data` of the -32022 `UnsupportedProtocolVersionError`
/// (listing every version in `supported`, legacy ones included).
///
/// # Errors
/// The -32022 error data.
pub fn check_modern_version(
    requested: &str,
    supported: &[ProtocolVersion],
) -> Result<ProtocolVersion, UnsupportedProtocolVersionData> {
    let version = ProtocolVersion::parse(requested);
    if version.is_modern() && supported.contains(&version) {
        Ok(version)
    } else {
        Err(UnsupportedProtocolVersionData {
            supported: supported.to_vec(),
            requested: requested.to_owned(),
        })
    }
}

/// Modern, client side: after a -32022 (or from `DiscoverResult.supportedVersions`), the newest
/// modern version both sides support, if any.
#[must_use]
pub fn select_modern_version(
    ours: &[ProtocolVersion],
    theirs: &[ProtocolVersion],
) -> Option<ProtocolVersion> {
    newest(ours, |v| v.is_modern() && theirs.contains(v)).cloned()
}
