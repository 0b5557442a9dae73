//! Parsing request and response heads out of a caller-owned buffer.

use bytes::Bytes;
use http::header::{HOST, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};
use httparse::{EMPTY_HEADER, Header, Status};

use super::error::H1Error;
use super::framing::request_body_framing;
use super::limits::Limits;

/// Parses a request head (request line, header fields, empty line) from the
/// start of `buf`.
///
/// Returns `Ok(None)` while the head is incomplete: read more bytes, append
/// them, and call again with the whole buffer (the parse restarts from the
/// first byte, which [`Limits::max_head_bytes`] keeps cheap). Returns
/// `Ok(Some((request, consumed)))` once complete: `consumed` is the length of
/// the head, and the body (if any) starts at `buf[consumed]`. Any bytes after
/// this message, such as a pipelined next request, stay in `buf` for the
/// caller to parse after it has answered this one, in order.
///
/// Header names and values are taken as sent (names lower-cased by
/// `http::HeaderName`), and repeated fields are all kept, in order. Empty
/// lines before the request line are skipped (RFC 9112 §2.2) and counted in
/// `consumed`.
///
/// The head is also checked so that a bad request is refused as early as
/// possible: an HTTP/1.1 request must carry exactly one `Host`, and the
/// framing headers must pass [`request_body_framing`].
///
/// # Errors
/// [`H1Error::HeadTooLarge`] or [`H1Error::TooManyHeaders`] (431),
/// [`H1Error::UnsupportedVersion`] (505), [`H1Error::MalformedHead`] or
/// [`H1Error::InvalidHost`] (400), and any error of [`request_body_framing`].
pub fn parse_request_head(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(Request<()>, usize)>, H1Error> {
    let window = head_window(buf, limits);
    with_header_slots(limits.max_headers, |slots| {
        let mut parsed = httparse::Request::new(slots);
        let consumed = match parsed.parse(window) {
            Ok(Status::Complete(consumed)) => consumed,
            Ok(Status::Partial) => return incomplete_head(buf, limits),
            Err(error) => return Err(head_error(error, window, StartLine::Request, limits)),
        };
        let method = parsed.method.ok_or(MISSING_START_LINE)?;
        let target = parsed.path.ok_or(MISSING_START_LINE)?;
        let mut request = Request::new(());
        *request.method_mut() =
            Method::from_bytes(method.as_bytes()).map_err(|_| H1Error::MalformedHead {
                reason: "invalid method",
            })?;
        let head = SharedHead::new(window, consumed);
        *request.uri_mut() =
            Uri::from_maybe_shared(head.slice(target.as_bytes())).map_err(|_| {
                H1Error::MalformedHead {
                    reason: "invalid request target",
                }
            })?;
        *request.version_mut() = version_from_minor(parsed.version)?;
        *request.headers_mut() = header_map(parsed.headers, &head, limits)?;

        if request.version() == Version::HTTP_11
            && request.headers().get_all(HOST).iter().count() != 1
        {
            return Err(H1Error::InvalidHost);
        }
        request_body_framing(&request)?;
        Ok(Some((request, consumed)))
    })
}

/// Parses a response head (status line, header fields, empty line) from the
/// start of `buf`.
///
/// Same contract as [`parse_request_head`]: `Ok(None)` means read more,
/// `consumed` is the head's length and whatever follows stays in `buf`. The
/// reason phrase is not kept (`http::Response` has no place for it).
///
/// Interim `1xx` responses (such as `100 Continue`) are returned like any
/// other head, so the caller can see them; they never have a body. A client
/// skips them by dropping `consumed` bytes and parsing again until it gets a
/// final (non-`1xx`) status. `101 Switching Protocols` is final for HTTP/1.1
/// purposes: the connection then speaks the new protocol.
///
/// Framing is not checked here because it depends on the request method:
/// call [`response_body_framing`](super::response_body_framing) next.
///
/// # Errors
/// [`H1Error::HeadTooLarge`], [`H1Error::TooManyHeaders`],
/// [`H1Error::UnsupportedVersion`] and [`H1Error::MalformedHead`].
pub fn parse_response_head(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(Response<()>, usize)>, H1Error> {
    let window = head_window(buf, limits);
    with_header_slots(limits.max_headers, |slots| {
        let mut parsed = httparse::Response::new(slots);
        let consumed = match parsed.parse(window) {
            Ok(Status::Complete(consumed)) => consumed,
            Ok(Status::Partial) => return incomplete_head(buf, limits),
            Err(error) => return Err(head_error(error, window, StartLine::Status, limits)),
        };
        let code = parsed.code.ok_or(MISSING_START_LINE)?;
        let mut response = Response::new(());
        *response.status_mut() =
            StatusCode::from_u16(code).map_err(|_| H1Error::MalformedHead {
                reason: "status code below 100",
            })?;
        *response.version_mut() = version_from_minor(parsed.version)?;
        let head = SharedHead::new(window, consumed);
        *response.headers_mut() = header_map(parsed.headers, &head, limits)?;
        Ok(Some((response, consumed)))
    })
}

/// httparse fills every field of a complete parse; kept as an error rather
/// than an `unwrap` so a future httparse change cannot make this panic.
const MISSING_START_LINE: H1Error = H1Error::MalformedHead {
    reason: "incomplete start line",
};

/// Only the first `max_head_bytes` are ever looked at, so a peer cannot make
/// one parse cost more than that however much it has sent.
fn head_window<'b>(buf: &'b [u8], limits: &Limits) -> &'b [u8] {
    buf.get(..limits.max_head_bytes).unwrap_or(buf)
}

/// A partial parse of a full window means the head cannot end within the
/// limit, so waiting for more bytes would be pointless.
fn incomplete_head<T>(buf: &[u8], limits: &Limits) -> Result<Option<T>, H1Error> {
    if buf.len() >= limits.max_head_bytes {
        Err(H1Error::HeadTooLarge {
            limit: limits.max_head_bytes,
        })
    } else {
        Ok(None)
    }
}

/// Runs `parse` with `max_headers` empty httparse slots: on the stack for the
/// usual small limits, on the heap (capped) for large ones.
fn with_header_slots<'b, R>(max_headers: usize, parse: impl FnOnce(&mut [Header<'b>]) -> R) -> R {
    let slot_count = max_headers.min(Limits::HEADER_SLOTS_CEILING);
    let mut on_stack: [Header<'b>; 64] = [EMPTY_HEADER; 64];
    match on_stack.get_mut(..slot_count) {
        Some(slots) => parse(slots),
        None => parse(&mut vec![EMPTY_HEADER; slot_count]),
    }
}

fn version_from_minor(minor: Option<u8>) -> Result<Version, H1Error> {
    match minor {
        Some(0) => Ok(Version::HTTP_10),
        Some(1) => Ok(Version::HTTP_11),
        Some(_) => Err(H1Error::UnsupportedVersion),
        None => Err(MISSING_START_LINE),
    }
}

/// One copy of a parsed head that its target and header values share, instead of a copy
/// (an allocation) each.
struct SharedHead<'b> {
    window: &'b [u8],
    copy: Bytes,
}

impl<'b> SharedHead<'b> {
    fn new(window: &'b [u8], consumed: usize) -> Self {
        let head = window.get(..consumed).unwrap_or(window);
        Self {
            window: head,
            copy: Bytes::copy_from_slice(head),
        }
    }

    /// The shared copy of `part`, a slice httparse took from the head; a copy of its own
    /// should it not lie within the head.
    fn slice(&self, part: &[u8]) -> Bytes {
        let start = part
            .as_ptr()
            .addr()
            .checked_sub(self.window.as_ptr().addr());
        match start.and_then(|start| Some(start..start.checked_add(part.len())?)) {
            Some(range) if range.end <= self.copy.len() => self.copy.slice(range),
            _ => Bytes::copy_from_slice(part),
        }
    }
}

/// MCP's own header names, lower-case: named without the allocation an unknown name costs.
const MCP_HEADER_NAMES: [&str; 6] = [
    "mcp-session-id",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
    "last-event-id",
    "dpop",
];

fn header_name(name: &str) -> Option<HeaderName> {
    if let Some(known) = MCP_HEADER_NAMES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(name))
    {
        return Some(HeaderName::from_static(known));
    }
    HeaderName::from_bytes(name.as_bytes()).ok()
}

fn header_map(
    fields: &[Header<'_>],
    head: &SharedHead<'_>,
    limits: &Limits,
) -> Result<HeaderMap, H1Error> {
    let too_many = |_| H1Error::TooManyHeaders {
        limit: limits.max_headers,
    };
    let mut map = HeaderMap::try_with_capacity(fields.len()).map_err(too_many)?;
    for field in fields {
        let name = header_name(field.name).ok_or(H1Error::MalformedHead {
            reason: "invalid header name",
        })?;
        let value = HeaderValue::from_maybe_shared(head.slice(field.value)).map_err(|_| {
            H1Error::MalformedHead {
                reason: "invalid header value",
            }
        })?;
        map.try_append(name, value).map_err(too_many)?;
    }
    Ok(map)
}

/// Which kind of start line a head begins with; it decides where the HTTP
/// version sits on that line.
#[derive(Clone, Copy)]
enum StartLine {
    Request,
    Status,
}

fn head_error(error: httparse::Error, window: &[u8], start: StartLine, limits: &Limits) -> H1Error {
    let reason = match error {
        httparse::Error::TooManyHeaders => {
            return H1Error::TooManyHeaders {
                limit: limits.max_headers,
            };
        }
        httparse::Error::Version if names_an_http_version(version_token(window, start)) => {
            return H1Error::UnsupportedVersion;
        }
        httparse::Error::Version => "invalid HTTP version",
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status code",
        httparse::Error::Token => "invalid method or request target",
    };
    H1Error::MalformedHead { reason }
}

/// httparse reports `HTTP/2.0` and `FOO/1.1` alike; only the first is a
/// well-formed version we do not speak (505) rather than garbage (400).
fn version_token(window: &[u8], start: StartLine) -> &[u8] {
    let first_line_start = window
        .iter()
        .position(|&byte| byte != b'\r' && byte != b'\n')
        .unwrap_or(window.len());
    let rest = window.get(first_line_start..).unwrap_or_default();
    let line = rest.split(|&byte| byte == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let token = match start {
        StartLine::Request => line.rsplit(|&byte| byte == b' ').next(),
        StartLine::Status => line.split(|&byte| byte == b' ').next(),
    };
    token.unwrap_or_default()
}

fn names_an_http_version(token: &[u8]) -> bool {
    match token.strip_prefix(b"HTTP/") {
        Some(number) => {
            number.first().is_some_and(u8::is_ascii_digit)
                && number
                    .iter()
                    .all(|&byte| byte.is_ascii_digit() || byte == b'.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Expected = Result<Option<(&'static str, &'static str, Version, usize)>, H1Error>;

    /// (name, input, expected (method, uri, version, header count)); a
    /// complete head must consume exactly up to its first empty line.
    #[test]
    fn request_heads() {
        let limits = Limits::default();
        let many_headers = format!(
            "GET / HTTP/1.1\r\nHost: a\r\n{}\r\n",
            "X-A: 1\r\n".repeat(64)
        );
        let huge_head = format!(
            "GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
            "a".repeat(16 * 1024)
        );
        let endless_head = format!("GET / HTTP/1.1\r\nX-Big: {}", "a".repeat(16 * 1024));
        let rows: Vec<(&str, &[u8], Expected)> = vec![
            (
                "simple GET",
                b"GET /mcp HTTP/1.1\r\nHost: example.com\r\n\r\n",
                Ok(Some(("GET", "/mcp", Version::HTTP_11, 1))),
            ),
            (
                "POST with body following",
                b"POST /mcp?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}",
                Ok(Some(("POST", "/mcp?x=1", Version::HTTP_11, 2))),
            ),
            (
                "HTTP/1.0 without Host",
                b"GET / HTTP/1.0\r\n\r\n",
                Ok(Some(("GET", "/", Version::HTTP_10, 0))),
            ),
            (
                "leading empty line skipped",
                b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
                Ok(Some(("GET", "/", Version::HTTP_11, 1))),
            ),
            (
                "absolute form",
                b"GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
                Ok(Some(("GET", "http://h/x", Version::HTTP_11, 1))),
            ),
            (
                "duplicate headers kept",
                b"GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nAccept: b\r\n\r\n",
                Ok(Some(("GET", "/", Version::HTTP_11, 3))),
            ),
            ("empty", b"", Ok(None)),
            ("request line only", b"GET / HTTP/1.1\r\n", Ok(None)),
            ("missing final CRLF", b"GET / HTTP/1.1\r\nHost: h\r\n", Ok(None)),
            ("half a CRLF", b"GET / HTTP/1.1\r\nHost: h\r\n\r", Ok(None)),
            (
                "too many headers",
                many_headers.as_bytes(),
                Err(H1Error::TooManyHeaders { limit: 64 }),
            ),
            (
                "head too large",
                huge_head.as_bytes(),
                Err(H1Error::HeadTooLarge { limit: 16 * 1024 }),
            ),
            (
                "head never ends",
                endless_head.as_bytes(),
                Err(H1Error::HeadTooLarge { limit: 16 * 1024 }),
            ),
            (
                "HTTP/2.0",
                b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
                Err(H1Error::UnsupportedVersion),
            ),
            (
                "HTTP/1.2",
                b"GET / HTTP/1.2\r\nHost: h\r\n\r\n",
                Err(H1Error::UnsupportedVersion),
            ),
            (
                "HTTP/3 partial line",
                b"GET / HTTP/3",
                Err(H1Error::UnsupportedVersion),
            ),
            (
                "garbage version",
                b"GET / FOO/1.1\r\n\r\n",
                Err(H1Error::MalformedHead {
                    reason: "invalid HTTP version",
                }),
            ),
            (
                "space in header name",
                b"GET / HTTP/1.1\r\nHost : h\r\n\r\n",
                Err(H1Error::MalformedHead {
                    reason: "invalid header name",
                }),
            ),
            (
                "obs-fold",
                b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
                Err(H1Error::MalformedHead {
                    reason: "invalid header name",
                }),
            ),
            (
                "bad request target",
                b"GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n",
                Err(H1Error::MalformedHead {
                    reason: "invalid method or request target",
                }),
            ),
            (
                "1.1 without Host",
                b"GET / HTTP/1.1\r\n\r\n",
                Err(H1Error::InvalidHost),
            ),
            (
                "two Hosts",
                b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                Err(H1Error::InvalidHost),
            ),
            (
                "Content-Length with Transfer-Encoding",
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                Err(H1Error::ContentLengthWithTransferEncoding),
            ),
            (
                "two different Content-Length",
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                Err(H1Error::ConflictingContentLength),
            ),
            (
                "identical Content-Length duplicates",
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                Ok(Some(("POST", "/", Version::HTTP_11, 3))),
            ),
            (
                "gzip request",
                b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
                Err(H1Error::TransferEncodingNotChunked),
            ),
        ];
        for (name, input, expected) in rows {
            let got = parse_request_head(input, &limits).map(|parsed| {
                parsed.map(|(request, consumed)| {
                    (
                        request.method().to_string(),
                        request.uri().to_string(),
                        request.version(),
                        request.headers().len(),
                        consumed,
                    )
                })
            });
            let head_end = input
                .windows(4)
                .position(|window| window == b"\r\n\r\n")
                .map_or(0, |start| start + 4);
            let expected = expected.map(|parsed| {
                parsed.map(|(method, uri, version, headers)| {
                    (
                        method.to_owned(),
                        uri.to_owned(),
                        version,
                        headers,
                        head_end,
                    )
                })
            });
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn request_header_values_kept_in_order() {
        let input =
            b"GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nX-Y:  spaced out \r\nAccept: b\r\n\r\n";
        let (request, _) = parse_request_head(input, &Limits::default())
            .unwrap()
            .unwrap();
        let accepts: Vec<_> = request.headers().get_all("accept").iter().collect();
        assert_eq!(accepts, ["a", "b"]);
        assert_eq!(request.headers()["x-y"], "spaced out");
    }

    /// MCP's names are recognised in any case; the values and target are those sent, also
    /// for a head followed by a body and a pipelined request.
    #[test]
    fn mcp_header_names_in_any_case_and_shared_values() {
        let input = b"POST /mcp?x=1 HTTP/1.1\r\nHost: h\r\nMCP-Session-ID: abc\r\n\
            Mcp-Protocol-Version: 2025-11-25\r\nmcp-method: tools/call\r\nMcp-Name: echo\r\n\
            Last-Event-ID: 7\r\nDPoP: p.q.r\r\nMcp-Other: o\r\nContent-Length: 2\r\n\r\n{}GET";
        let (request, consumed) = parse_request_head(input, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(&input[consumed..], b"{}GET");
        assert_eq!(request.uri(), "/mcp?x=1");
        let headers = request.headers();
        for (name, value) in [
            ("mcp-session-id", "abc"),
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "echo"),
            ("last-event-id", "7"),
            ("dpop", "p.q.r"),
            ("mcp-other", "o"),
            ("content-length", "2"),
        ] {
            assert_eq!(headers[name], value, "{name}");
        }
        assert_eq!(headers.len(), 9);
    }

    #[test]
    fn split_head_is_none_until_complete() {
        let input = b"POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n";
        let head_len = input.len() - b"GET / HTTP/1.1\r\n".len();
        for cut in 0..head_len {
            let got = parse_request_head(&input[..cut], &Limits::default());
            assert_eq!(got.map(|parsed| parsed.is_none()), Ok(true), "cut {cut}");
        }
        for cut in head_len..=input.len() {
            let got = parse_request_head(&input[..cut], &Limits::default()).unwrap();
            assert_eq!(
                got.map(|(_, consumed)| consumed),
                Some(head_len),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn limits_are_configurable() {
        let mut limits = Limits {
            max_headers: 1,
            max_head_bytes: 40,
            ..Limits::default()
        };
        let rows: &[(&str, &[u8], Result<bool, H1Error>)] = &[
            ("fits", b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", Ok(true)),
            (
                "second header",
                b"GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n",
                Err(H1Error::TooManyHeaders { limit: 1 }),
            ),
            (
                "over 40 bytes",
                b"GET /aaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: h\r\n\r\n",
                Err(H1Error::HeadTooLarge { limit: 40 }),
            ),
        ];
        for (name, input, expected) in rows {
            let got = parse_request_head(input, &limits).map(|parsed| parsed.is_some());
            assert_eq!(&got, expected, "{name}");
        }
        limits.max_headers = usize::MAX;
        limits.max_head_bytes = usize::MAX;
        let got = parse_request_head(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &limits);
        assert!(
            matches!(got, Ok(Some(_))),
            "huge limits are capped, not allocated"
        );
    }

    type ResponseExpected = Result<Option<(u16, Version, usize, usize)>, H1Error>;

    #[test]
    fn response_heads() {
        let limits = Limits::default();
        let rows: Vec<(&str, &[u8], ResponseExpected)> = vec![
            (
                "200",
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
                Ok(Some((200, Version::HTTP_11, 1, 38))),
            ),
            (
                "interim 100 Continue is a normal head",
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
                Ok(Some((100, Version::HTTP_11, 0, 25))),
            ),
            (
                "no reason phrase",
                b"HTTP/1.0 204\r\n\r\n",
                Ok(Some((204, Version::HTTP_10, 0, 16))),
            ),
            ("partial", b"HTTP/1.1 200 OK\r\n", Ok(None)),
            (
                "HTTP/2.0",
                b"HTTP/2.0 200 OK\r\n\r\n",
                Err(H1Error::UnsupportedVersion),
            ),
            (
                "status below 100",
                b"HTTP/1.1 099 Low\r\n\r\n",
                Err(H1Error::MalformedHead {
                    reason: "status code below 100",
                }),
            ),
            (
                "status not digits",
                b"HTTP/1.1 2x0 OK\r\n\r\n",
                Err(H1Error::MalformedHead {
                    reason: "invalid status code",
                }),
            ),
        ];
        for (name, input, expected) in rows {
            let got = parse_response_head(input, &limits).map(|parsed| {
                parsed.map(|(response, consumed)| {
                    (
                        response.status().as_u16(),
                        response.version(),
                        response.headers().len(),
                        consumed,
                    )
                })
            });
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn version_classification() {
        let rows: &[(&str, &[u8], StartLine, bool)] = &[
            (
                "request 2.0",
                b"GET / HTTP/2.0\r\n",
                StartLine::Request,
                true,
            ),
            ("request 10", b"\r\nGET / HTTP/10", StartLine::Request, true),
            (
                "request junk",
                b"GET / HTTX/1.1\r\n",
                StartLine::Request,
                false,
            ),
            (
                "request HTTP/ only",
                b"GET / HTTP/\r\n",
                StartLine::Request,
                false,
            ),
            ("status 3", b"HTTP/3 200 OK\r\n", StartLine::Status, true),
            ("status junk", b"HTTP/x 200\r\n", StartLine::Status, false),
            ("empty", b"", StartLine::Status, false),
        ];
        for (name, window, start, expected) in rows {
            assert_eq!(
                names_an_http_version(version_token(window, *start)),
                *expected,
                "{name}"
            );
        }
    }
}
