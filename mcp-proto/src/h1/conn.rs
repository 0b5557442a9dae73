//! Connection reuse and `Expect: 100-continue`.

use http::header::{CONNECTION, EXPECT};
use http::{HeaderMap, Request, Version};

use super::framing::trim_whitespace;

/// The complete interim response a server sends to let a client that asked
/// for `Expect: 100-continue` go on with its body.
pub const CONTINUE_RESPONSE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Whether the connection may carry another message after this one,
/// judging by the version and `Connection` header of the message just read
/// (or about to be sent).
///
/// HTTP/1.1 keeps the connection unless a `close` token is present;
/// HTTP/1.0 closes it unless a `keep-alive` token is present (and no
/// `close`). Tokens are matched case-insensitively, in comma lists and
/// across repeated fields. Other versions are not HTTP/1 connections:
/// `false`.
///
/// The body framing can overrule a `true`: after an
/// [`UntilClose`](super::BodyFraming::UntilClose) body, or after any
/// [`H1Error`](super::H1Error), the connection must be closed.
#[must_use]
pub fn keep_alive(version: Version, headers: &HeaderMap) -> bool {
    let has_token = |wanted: &[u8]| {
        headers.get_all(CONNECTION).iter().any(|value| {
            value
                .as_bytes()
                .split(|&byte| byte == b',')
                .any(|token| trim_whitespace(token).eq_ignore_ascii_case(wanted))
        })
    };
    match version {
        Version::HTTP_11 => !has_token(b"close"),
        Version::HTTP_10 => has_token(b"keep-alive") && !has_token(b"close"),
        _ => false,
    }
}

/// Whether the client waits for [`CONTINUE_RESPONSE`] before sending the
/// body: an HTTP/1.1 request with `Expect: 100-continue`
/// (case-insensitive).
///
/// HTTP/1.0 requests always get `false`, because RFC 9110 §10.1.1 says a
/// server must ignore this expectation from them. A server that does not
/// want the body (e.g. it is too large, see
/// [`Limits::check_declared_body`](super::Limits::check_declared_body))
/// answers with a final status instead of `100 Continue`, and then closes the
/// connection or reads and discards the body.
#[must_use]
pub fn expects_continue(request: &Request<()>) -> bool {
    request.version() == Version::HTTP_11
        && request
            .headers()
            .get_all(EXPECT)
            .iter()
            .any(|value| trim_whitespace(value.as_bytes()).eq_ignore_ascii_case(b"100-continue"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, version, header fields, expected).
    type Row = (
        &'static str,
        Version,
        &'static [(&'static str, &'static str)],
        bool,
    );

    fn headers(fields: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            map.append(
                http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn keep_alive_table() {
        let v10 = Version::HTTP_10;
        let v11 = Version::HTTP_11;
        let rows: &[Row] = &[
            ("1.1 default", v11, &[], true),
            ("1.1 close", v11, &[("connection", "close")], false),
            ("1.1 Close upper", v11, &[("connection", "CLOSE")], false),
            (
                "1.1 close in list",
                v11,
                &[("connection", "upgrade, close ")],
                false,
            ),
            (
                "1.1 close in second field",
                v11,
                &[("connection", "te"), ("connection", "close")],
                false,
            ),
            (
                "1.1 closed is not close",
                v11,
                &[("connection", "closed")],
                true,
            ),
            ("1.1 keep-alive", v11, &[("connection", "keep-alive")], true),
            ("1.0 default", v10, &[], false),
            ("1.0 keep-alive", v10, &[("connection", "Keep-Alive")], true),
            (
                "1.0 keep-alive in list",
                v10,
                &[("connection", "foo,keep-alive")],
                true,
            ),
            (
                "1.0 keep-alive and close",
                v10,
                &[("connection", "keep-alive, close")],
                false,
            ),
            ("HTTP/2", Version::HTTP_2, &[], false),
        ];
        for (name, version, fields, expected) in rows {
            assert_eq!(keep_alive(*version, &headers(fields)), *expected, "{name}");
        }
    }

    #[test]
    fn expects_continue_table() {
        let rows: &[Row] = &[
            ("absent", Version::HTTP_11, &[], false),
            (
                "present",
                Version::HTTP_11,
                &[("expect", "100-continue")],
                true,
            ),
            (
                "any case",
                Version::HTTP_11,
                &[("expect", " 100-Continue ")],
                true,
            ),
            (
                "other expectation",
                Version::HTTP_11,
                &[("expect", "200-ok")],
                false,
            ),
            (
                "ignored on 1.0",
                Version::HTTP_10,
                &[("expect", "100-continue")],
                false,
            ),
        ];
        for (name, version, fields, expected) in rows {
            let mut request = Request::new(());
            *request.version_mut() = *version;
            *request.headers_mut() = headers(fields);
            assert_eq!(expects_continue(&request), *expected, "{name}");
        }
    }

    #[test]
    fn continue_response_parses_as_interim() {
        let parsed = super::super::parse_response_head(CONTINUE_RESPONSE, &Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(parsed.0.status(), http::StatusCode::CONTINUE);
        assert_eq!(parsed.1, CONTINUE_RESPONSE.len());
    }
}
