//! How the end of a message body is found (RFC 9112 §6).

use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Request, Response, StatusCode, Version};

use super::error::H1Error;

/// How a message body is delimited on the wire.
///
/// Decide it with [`request_body_framing`] / [`response_body_framing`] for
/// received messages, then hand it to
/// [`BodyDecoder::new`](super::BodyDecoder::new). For sent messages, pass it
/// to [`encode_request_head`](super::encode_request_head) /
/// [`encode_response_head`](super::encode_response_head), which write the
/// matching framing header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyFraming {
    /// There is no body: no framing header on a request, or a response that
    /// cannot have one (to `HEAD`, or `1xx`/`204`/`304`).
    Empty,
    /// The body is exactly this many bytes (`Content-Length`). `Length(0)` is
    /// kept as sent rather than folded into `Empty`; both decode to nothing.
    Length(u64),
    /// The body uses the chunked transfer coding.
    Chunked,
    /// The body runs until the server closes the connection. Only responses
    /// can be framed this way, and such a connection cannot be reused.
    UntilClose,
}

/// Decides how the body of a received request is framed.
///
/// `Transfer-Encoding` wins only when it is alone: together with
/// `Content-Length` the request is refused, because intermediaries may
/// disagree on which one to follow (request smuggling). The codings must
/// end in `chunked`; `chunked` is the only coding supported. Several
/// `Content-Length` values (repeated fields or a comma list) are accepted
/// when they are all equal, as RFC 9110 §8.6 allows. A request with neither
/// header has no body (it is never `UntilClose`).
///
/// # Errors
/// [`H1Error::ContentLengthWithTransferEncoding`],
/// [`H1Error::TransferEncodingInHttp10`],
/// [`H1Error::TransferEncodingNotChunked`] (e.g. `Transfer-Encoding: gzip`:
/// 400 because the body length is unknowable, checked before support),
/// [`H1Error::InvalidTransferEncoding`], [`H1Error::UnsupportedTransferCoding`]
/// (`gzip, chunked`: 501), [`H1Error::InvalidContentLength`] and
/// [`H1Error::ConflictingContentLength`].
pub fn request_body_framing(request: &Request<()>) -> Result<BodyFraming, H1Error> {
    framing_from_headers(request.version(), request.headers(), Sender::Client)
}

/// Decides how the body of a received response is framed, given the method
/// of the request it answers.
///
/// Responses to `HEAD`, `1xx`, `204` and `304` responses, and `2xx`
/// responses to `CONNECT` (the connection becomes a tunnel) have no body
/// whatever their headers say, so their framing headers are not inspected.
/// Otherwise the rules of [`request_body_framing`] apply, except that a
/// response with neither header is [`BodyFraming::UntilClose`], and a
/// `Transfer-Encoding` not ending in `chunked` is
/// [`H1Error::UnsupportedTransferCoding`] (its body would still be
/// compressed, and this codec does not decompress).
///
/// # Errors
/// As for [`request_body_framing`].
pub fn response_body_framing(
    request_method: &Method,
    response: &Response<()>,
) -> Result<BodyFraming, H1Error> {
    let status = response.status();
    let never_has_body = *request_method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || (*request_method == Method::CONNECT && status.is_success());
    if never_has_body {
        return Ok(BodyFraming::Empty);
    }
    framing_from_headers(response.version(), response.headers(), Sender::Server)
}

/// Who sent the message: the two sides differ on missing framing and on
/// codings that do not end in `chunked`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sender {
    Client,
    Server,
}

fn framing_from_headers(
    version: Version,
    headers: &HeaderMap,
    sender: Sender,
) -> Result<BodyFraming, H1Error> {
    if headers.contains_key(TRANSFER_ENCODING) {
        if headers.contains_key(CONTENT_LENGTH) {
            return Err(H1Error::ContentLengthWithTransferEncoding);
        }
        if version == Version::HTTP_10 {
            return Err(H1Error::TransferEncodingInHttp10);
        }
        check_transfer_codings(headers, sender)?;
        return Ok(BodyFraming::Chunked);
    }
    match content_length(headers)? {
        Some(length) => Ok(BodyFraming::Length(length)),
        None if sender == Sender::Client => Ok(BodyFraming::Empty),
        None => Ok(BodyFraming::UntilClose),
    }
}

/// Succeeds only for a coding list that is exactly `chunked` (possibly
/// spread over several fields, with empty list elements ignored).
fn check_transfer_codings(headers: &HeaderMap, sender: Sender) -> Result<(), H1Error> {
    let mut codings = 0_usize;
    let mut chunked_count = 0_usize;
    let mut last_is_chunked = false;
    let mut other_coding = false;
    for value in headers.get_all(TRANSFER_ENCODING) {
        for element in value.as_bytes().split(|&byte| byte == b',') {
            let name = element
                .split(|&byte| byte == b';')
                .next()
                .map(trim_whitespace)
                .unwrap_or_default();
            if name.is_empty() {
                continue;
            }
            codings += 1;
            last_is_chunked = name.eq_ignore_ascii_case(b"chunked");
            if last_is_chunked {
                chunked_count += 1;
            } else {
                other_coding = true;
            }
        }
    }
    if codings == 0 {
        return Err(H1Error::InvalidTransferEncoding {
            reason: "no transfer coding listed",
        });
    }
    if !last_is_chunked {
        return Err(match sender {
            Sender::Client => H1Error::TransferEncodingNotChunked,
            Sender::Server => H1Error::UnsupportedTransferCoding,
        });
    }
    if chunked_count > 1 {
        return Err(H1Error::InvalidTransferEncoding {
            reason: "chunked applied more than once",
        });
    }
    if other_coding {
        return Err(H1Error::UnsupportedTransferCoding);
    }
    Ok(())
}

/// The one length all `Content-Length` values agree on, if any is present.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, H1Error> {
    let mut agreed = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for element in value.as_bytes().split(|&byte| byte == b',') {
            let length =
                parse_decimal(trim_whitespace(element)).ok_or(H1Error::InvalidContentLength)?;
            match agreed {
                Some(previous) if previous != length => {
                    return Err(H1Error::ConflictingContentLength);
                }
                _ => agreed = Some(length),
            }
        }
    }
    Ok(agreed)
}

/// `1*DIGIT` only: signs, spaces inside and hex are what smuggling attempts
/// use to make two parsers disagree.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0_u64, |total, &byte| {
        let digit = byte.checked_sub(b'0').filter(|digit| *digit <= 9)?;
        total.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

pub(super) fn trim_whitespace(bytes: &[u8]) -> &[u8] {
    let is_whitespace = |byte: &u8| *byte == b' ' || *byte == b'\t';
    let start = bytes
        .iter()
        .position(|byte| !is_whitespace(byte))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|byte| !is_whitespace(byte))
        .map_or(start, |last| last + 1);
    bytes.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fields = &'static [(&'static str, &'static str)];
    type Expected = Result<BodyFraming, H1Error>;

    fn request(version: Version, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().version(version).uri("/");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    fn response(status: u16, headers: &[(&str, &str)]) -> Response<()> {
        let mut builder = Response::builder().status(status);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn request_framing() {
        use BodyFraming::{Chunked, Empty, Length};
        let v11 = Version::HTTP_11;
        let rows: &[(&str, Version, Fields, Expected)] = &[
            ("no headers", v11, &[], Ok(Empty)),
            ("length", v11, &[("content-length", "5")], Ok(Length(5))),
            (
                "zero length",
                v11,
                &[("content-length", "0")],
                Ok(Length(0)),
            ),
            (
                "leading zeros",
                v11,
                &[("content-length", "007")],
                Ok(Length(7)),
            ),
            (
                "identical duplicates",
                v11,
                &[("content-length", "5"), ("content-length", "5")],
                Ok(Length(5)),
            ),
            (
                "identical list",
                v11,
                &[("content-length", "5, 5")],
                Ok(Length(5)),
            ),
            (
                "different duplicates",
                v11,
                &[("content-length", "5"), ("content-length", "6")],
                Err(H1Error::ConflictingContentLength),
            ),
            (
                "different list",
                v11,
                &[("content-length", "5,6")],
                Err(H1Error::ConflictingContentLength),
            ),
            (
                "signed",
                v11,
                &[("content-length", "+5")],
                Err(H1Error::InvalidContentLength),
            ),
            (
                "hex",
                v11,
                &[("content-length", "0x5")],
                Err(H1Error::InvalidContentLength),
            ),
            (
                "empty",
                v11,
                &[("content-length", "")],
                Err(H1Error::InvalidContentLength),
            ),
            (
                "inner space",
                v11,
                &[("content-length", "1 2")],
                Err(H1Error::InvalidContentLength),
            ),
            (
                "overflow",
                v11,
                &[("content-length", "18446744073709551616")],
                Err(H1Error::InvalidContentLength),
            ),
            (
                "max u64",
                v11,
                &[("content-length", "18446744073709551615")],
                Ok(Length(u64::MAX)),
            ),
            (
                "chunked",
                v11,
                &[("transfer-encoding", "chunked")],
                Ok(Chunked),
            ),
            (
                "chunked any case",
                v11,
                &[("transfer-encoding", " Chunked ")],
                Ok(Chunked),
            ),
            (
                "chunked with content-length",
                v11,
                &[("content-length", "5"), ("transfer-encoding", "chunked")],
                Err(H1Error::ContentLengthWithTransferEncoding),
            ),
            (
                "chunked in 1.0",
                Version::HTTP_10,
                &[("transfer-encoding", "chunked")],
                Err(H1Error::TransferEncodingInHttp10),
            ),
            (
                "gzip alone",
                v11,
                &[("transfer-encoding", "gzip")],
                Err(H1Error::TransferEncodingNotChunked),
            ),
            (
                "chunked then gzip",
                v11,
                &[("transfer-encoding", "chunked, gzip")],
                Err(H1Error::TransferEncodingNotChunked),
            ),
            (
                "gzip then chunked",
                v11,
                &[("transfer-encoding", "gzip, chunked")],
                Err(H1Error::UnsupportedTransferCoding),
            ),
            (
                "gzip then chunked over two fields",
                v11,
                &[
                    ("transfer-encoding", "gzip"),
                    ("transfer-encoding", "chunked"),
                ],
                Err(H1Error::UnsupportedTransferCoding),
            ),
            (
                "chunked twice",
                v11,
                &[("transfer-encoding", "chunked, chunked")],
                Err(H1Error::InvalidTransferEncoding {
                    reason: "chunked applied more than once",
                }),
            ),
            (
                "empty coding list",
                v11,
                &[("transfer-encoding", " , ")],
                Err(H1Error::InvalidTransferEncoding {
                    reason: "no transfer coding listed",
                }),
            ),
        ];
        for (name, version, headers, expected) in rows {
            assert_eq!(
                &request_body_framing(&request(*version, headers)),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn response_framing() {
        use BodyFraming::{Chunked, Empty, Length, UntilClose};
        let get = Method::GET;
        let rows: &[(&str, Method, u16, Fields, Expected)] = &[
            ("no headers", get.clone(), 200, &[], Ok(UntilClose)),
            (
                "length",
                get.clone(),
                200,
                &[("content-length", "3")],
                Ok(Length(3)),
            ),
            (
                "chunked",
                get.clone(),
                200,
                &[("transfer-encoding", "chunked")],
                Ok(Chunked),
            ),
            (
                "HEAD",
                Method::HEAD,
                200,
                &[("content-length", "3")],
                Ok(Empty),
            ),
            ("100", get.clone(), 100, &[], Ok(Empty)),
            ("101", get.clone(), 101, &[], Ok(Empty)),
            (
                "204",
                get.clone(),
                204,
                &[("content-length", "3")],
                Ok(Empty),
            ),
            (
                "304",
                get.clone(),
                304,
                &[("content-length", "3")],
                Ok(Empty),
            ),
            ("CONNECT tunnel", Method::CONNECT, 200, &[], Ok(Empty)),
            ("CONNECT refused", Method::CONNECT, 407, &[], Ok(UntilClose)),
            (
                "gzip alone",
                get.clone(),
                200,
                &[("transfer-encoding", "gzip")],
                Err(H1Error::UnsupportedTransferCoding),
            ),
            (
                "both",
                get.clone(),
                200,
                &[("transfer-encoding", "chunked"), ("content-length", "3")],
                Err(H1Error::ContentLengthWithTransferEncoding),
            ),
            (
                "conflicting",
                get,
                200,
                &[("content-length", "3"), ("content-length", "4")],
                Err(H1Error::ConflictingContentLength),
            ),
        ];
        for (name, method, status, headers, expected) in rows {
            assert_eq!(
                &response_body_framing(method, &response(*status, headers)),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn whitespace_trimming() {
        let rows: &[(&str, &[u8], &[u8])] = &[
            ("empty", b"", b""),
            ("only spaces", b" \t ", b""),
            ("both sides", b" \tab c\t ", b"ab c"),
            ("none", b"x", b"x"),
        ];
        for (name, input, expected) in rows {
            assert_eq!(trim_whitespace(input), *expected, "{name}");
        }
    }
}
