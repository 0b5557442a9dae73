//! Bounds on everything the codec reads from a peer.

use super::error::H1Error;
use super::framing::BodyFraming;

/// Upper bounds on what a peer may make the codec read.
///
/// Every parser in this module stops with a typed [`H1Error`] instead of
/// reading past one of these. The defaults suit a JSON-RPC endpoint such as
/// MCP; to change one, mutate a copy of [`Limits::default`]:
///
/// ```
/// let mut limits = mcp_proto::h1::Limits::default();
/// limits.max_body_bytes = 64 * 1024 * 1024;
/// assert_eq!(limits.max_headers, 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest message head (start line, header fields, empty line), in
    /// bytes. Default 16 KiB. Longer heads fail with
    /// [`H1Error::HeadTooLarge`] (431).
    pub max_head_bytes: usize,
    /// Most header fields in one head. Default 64. More fail with
    /// [`H1Error::TooManyHeaders`] (431). Values above
    /// [`Limits::HEADER_SLOTS_CEILING`] act as that ceiling.
    pub max_headers: usize,
    /// Longest body, in bytes, whatever its framing. Default 4 MiB. Longer
    /// bodies fail with [`H1Error::BodyTooLarge`] (413).
    pub max_body_bytes: u64,
    /// Longest chunk-size line (hex size, extensions and CRLF), in bytes.
    /// Default 1 KiB. Longer lines fail with [`H1Error::ChunkLineTooLong`].
    pub max_chunk_line_bytes: usize,
    /// Longest trailer section after the last chunk (all trailer lines and
    /// the final CRLF), in bytes. Default 8 KiB. Longer sections fail with
    /// [`H1Error::TrailersTooLarge`].
    pub max_trailer_bytes: usize,
}

impl Limits {
    /// The most header fields the head parser will make room for, whatever
    /// [`Limits::max_headers`] says, so that a careless limit cannot make it
    /// allocate without bound. `http::HeaderMap` cannot hold many more.
    pub const HEADER_SLOTS_CEILING: usize = 16 * 1024;

    /// Refuses a body whose declared length already exceeds
    /// [`Limits::max_body_bytes`], so a server can answer 413 before reading
    /// it (and before sending `100 Continue`). Chunked and until-close bodies
    /// are checked as they are decoded instead.
    ///
    /// # Errors
    /// [`H1Error::BodyTooLarge`] for a `Length` above the limit.
    pub fn check_declared_body(&self, framing: BodyFraming) -> Result<(), H1Error> {
        match framing {
            BodyFraming::Length(length) if length > self.max_body_bytes => {
                Err(H1Error::BodyTooLarge {
                    limit: self.max_body_bytes,
                })
            }
            _ => Ok(()),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 4 * 1024 * 1024,
            max_chunk_line_bytes: 1024,
            max_trailer_bytes: 8 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_body_check() {
        let limits = Limits::default();
        let rows: &[(&str, BodyFraming, bool)] = &[
            ("empty", BodyFraming::Empty, true),
            ("at limit", BodyFraming::Length(4 * 1024 * 1024), true),
            (
                "over limit",
                BodyFraming::Length(4 * 1024 * 1024 + 1),
                false,
            ),
            ("chunked checked later", BodyFraming::Chunked, true),
            ("until close checked later", BodyFraming::UntilClose, true),
        ];
        for (name, framing, ok) in rows {
            assert_eq!(limits.check_declared_body(*framing).is_ok(), *ok, "{name}");
        }
    }
}
