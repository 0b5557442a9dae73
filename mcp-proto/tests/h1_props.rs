#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Property tests of the HTTP/1.1 codec: round trips under arbitrary splits,
//! and no panics or over-consumption on arbitrary bytes.

use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Version};
use mcp_proto::h1::{
    BodyDecoder, BodyFraming, BodyStatus, H1Error, Limits, encode_chunk, encode_last_chunk,
    encode_request_head, parse_request_head, parse_response_head,
};
use proptest::prelude::*;

/// What came out of a decode run: the body, how many `End`s were seen, and
/// the bytes left after the body.
struct Decoded {
    body: Vec<u8>,
    ends: usize,
    rest: Vec<u8>,
}

/// Feeds `wire` to a decoder in the pieces given by `cuts`, dropping
/// `consumed` bytes after every call, as a runtime adapter would.
fn decode_in_pieces(framing: BodyFraming, wire: &[u8], cuts: &[usize]) -> Result<Decoded, H1Error> {
    let mut decoder = BodyDecoder::new(framing, &Limits::default());
    let mut boundaries: Vec<usize> = cuts.iter().map(|cut| cut % (wire.len() + 1)).collect();
    boundaries.push(wire.len());
    boundaries.sort_unstable();
    let mut pending: Vec<u8> = Vec::new();
    let mut decoded = Decoded {
        body: Vec::new(),
        ends: 0,
        rest: Vec::new(),
    };
    let mut fed = 0;
    for boundary in boundaries {
        pending.extend_from_slice(&wire[fed..boundary]);
        fed = boundary;
        loop {
            let status = decoder.decode(&pending)?;
            assert!(status.consumed() <= pending.len());
            match status {
                BodyStatus::Data { data, consumed } => {
                    assert!(!data.is_empty() && data.len() <= consumed);
                    assert_eq!(data, &pending[consumed - data.len()..consumed]);
                    decoded.body.extend_from_slice(data);
                    pending.drain(..consumed);
                }
                BodyStatus::NeedMore { consumed } => {
                    pending.drain(..consumed);
                    break;
                }
                BodyStatus::End { consumed } => {
                    decoded.ends += 1;
                    pending.drain(..consumed);
                    decoded.rest.extend_from_slice(&pending);
                    decoded.rest.extend_from_slice(&wire[fed..]);
                    return Ok(decoded);
                }
            }
        }
    }
    decoder.finish()?;
    Ok(decoded)
}

fn chunked_wire(chunks: &[Vec<u8>], after: &[u8]) -> Vec<u8> {
    let mut wire = Vec::new();
    for chunk in chunks {
        encode_chunk(chunk, &mut wire);
    }
    encode_last_chunk(&mut wire);
    wire.extend_from_slice(after);
    wire
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::DELETE),
        Just(Method::OPTIONS),
        "[A-Z][A-Z_-]{0,11}".prop_map(|name| Method::from_bytes(name.as_bytes()).unwrap()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    (
        "(/[a-zA-Z0-9._~%!$&'()*+,;=:@-]{0,8}){1,4}",
        proptest::option::of("[a-zA-Z0-9=&/?-]{0,12}"),
    )
        .prop_map(|(path, query)| match query {
            Some(query) => format!("{path}?{query}"),
            None => path,
        })
}

fn header() -> impl Strategy<Value = (HeaderName, HeaderValue)> {
    // Field values have no leading or trailing whitespace, which HTTP/1.1
    // strips; inside, any visible byte, space, tab or obs-text is fine.
    let name = "x-[a-z0-9!#$%&'*+.^_`|~-]{1,12}";
    let edge =
        prop::num::u8::ANY.prop_filter("visible", |byte| byte.is_ascii_graphic() || *byte >= 0x80);
    let inner = prop::collection::vec(
        prop::num::u8::ANY.prop_filter("field byte", |byte| {
            byte.is_ascii_graphic() || *byte == b' ' || *byte == b'\t' || *byte >= 0x80
        }),
        0..16,
    );
    (name, proptest::option::of((edge.clone(), inner, edge))).prop_map(|(name, value)| {
        let bytes = match value {
            Some((first, middle, last)) => [vec![first], middle, vec![last]].concat(),
            None => Vec::new(),
        };
        (
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(&bytes).unwrap(),
        )
    })
}

fn framing_for(version: Version) -> impl Strategy<Value = BodyFraming> {
    let mut options = vec![
        Just(BodyFraming::Empty).boxed(),
        any::<u64>().prop_map(BodyFraming::Length).boxed(),
    ];
    if version == Version::HTTP_11 {
        options.push(Just(BodyFraming::Chunked).boxed());
    }
    proptest::strategy::Union::new(options)
}

fn request_head() -> impl Strategy<Value = (Request<()>, BodyFraming)> {
    let version = prop_oneof![Just(Version::HTTP_10), Just(Version::HTTP_11)];
    (
        version,
        method(),
        path(),
        "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
        prop::collection::vec(header(), 0..6),
    )
        .prop_flat_map(|(version, method, path, host, headers)| {
            let mut request = Request::builder()
                .method(method)
                .uri(path.as_str())
                .version(version)
                .header("host", host)
                .body(())
                .unwrap();
            for (name, value) in headers {
                request.headers_mut().append(name, value);
            }
            (Just(request), framing_for(version))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// (a) Chunked round trip under arbitrary splits.
    #[test]
    fn chunked_body_round_trips(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..8),
        after in prop::collection::vec(any::<u8>(), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let wire = chunked_wire(&chunks, &after);
        let decoded = decode_in_pieces(BodyFraming::Chunked, &wire, &cuts).unwrap();
        prop_assert_eq!(&decoded.body, &chunks.concat());
        prop_assert_eq!(decoded.ends, 1);
        prop_assert_eq!(&decoded.rest, &after);
    }

    /// (a) Same, one byte at a time.
    #[test]
    fn chunked_body_round_trips_byte_at_a_time(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 0..6),
        after in prop::collection::vec(any::<u8>(), 0..4),
    ) {
        let wire = chunked_wire(&chunks, &after);
        let cuts: Vec<usize> = (0..wire.len()).collect();
        let decoded = decode_in_pieces(BodyFraming::Chunked, &wire, &cuts).unwrap();
        prop_assert_eq!(&decoded.body, &chunks.concat());
        prop_assert_eq!(decoded.ends, 1);
        prop_assert_eq!(&decoded.rest, &after);
    }

    /// Length bodies count down exactly, and leave what follows.
    #[test]
    fn length_body_round_trips(
        body in prop::collection::vec(any::<u8>(), 0..64),
        after in prop::collection::vec(any::<u8>(), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let wire = [body.clone(), after.clone()].concat();
        let decoded = decode_in_pieces(BodyFraming::Length(body.len() as u64), &wire, &cuts).unwrap();
        prop_assert_eq!(&decoded.body, &body);
        prop_assert_eq!(decoded.ends, 1);
        prop_assert_eq!(&decoded.rest, &after);
    }

    /// (b) Request heads survive encode then parse, under any split.
    #[test]
    fn request_head_round_trips(
        (request, framing) in request_head(),
        after in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut wire = Vec::new();
        encode_request_head(&request, framing, &mut wire).unwrap();
        let head_len = wire.len();
        wire.extend_from_slice(&after);
        let limits = Limits::default();

        for cut in 0..head_len {
            let partial = parse_request_head(&wire[..cut], &limits);
            prop_assert!(matches!(partial, Ok(None)), "cut {}: {:?}", cut, partial);
        }
        let (parsed, consumed) = parse_request_head(&wire, &limits).unwrap().unwrap();
        prop_assert_eq!(consumed, head_len);
        prop_assert_eq!(parsed.method(), request.method());
        prop_assert_eq!(parsed.uri(), request.uri());
        prop_assert_eq!(parsed.version(), request.version());

        let mut expected = request.headers().clone();
        match framing {
            BodyFraming::Length(length) => {
                expected.insert("content-length", HeaderValue::from(length));
            }
            BodyFraming::Chunked => {
                expected.insert("transfer-encoding", HeaderValue::from_static("chunked"));
            }
            BodyFraming::Empty | BodyFraming::UntilClose => {}
        }
        prop_assert_eq!(parsed.headers(), &expected);
        prop_assert_eq!(mcp_proto::h1::request_body_framing(&parsed), Ok(framing));
    }

    /// (c) Arbitrary bytes: no panic, `consumed` within the buffer.
    #[test]
    fn arbitrary_bytes_are_handled(
        prefix in prop_oneof![
            Just(Vec::new()),
            Just(b"GET / HTTP/1.1\r\n".to_vec()),
            Just(b"HTTP/1.1 200 OK\r\n".to_vec()),
            Just(b"5\r\n".to_vec()),
        ],
        noise in prop::collection::vec(
            prop_oneof![
                4 => any::<u8>(),
                1 => prop::sample::select(b"\r\n:;0aF \t".to_vec()),
            ],
            0..256,
        ),
        cuts in prop::collection::vec(any::<usize>(), 0..4),
    ) {
        let bytes = [prefix, noise].concat();
        let mut limits = Limits::default();
        limits.max_head_bytes = 128;
        limits.max_headers = 4;
        if let Ok(Some((_, consumed))) = parse_request_head(&bytes, &limits) {
            prop_assert!(consumed <= bytes.len().min(limits.max_head_bytes));
        }
        if let Ok(Some((_, consumed))) = parse_response_head(&bytes, &limits) {
            prop_assert!(consumed <= bytes.len().min(limits.max_head_bytes));
        }
        // decode_in_pieces asserts consumed <= buffer on every call.
        let _ = decode_in_pieces(BodyFraming::Chunked, &bytes, &cuts);
        let _ = decode_in_pieces(BodyFraming::UntilClose, &bytes, &cuts);
    }
}
