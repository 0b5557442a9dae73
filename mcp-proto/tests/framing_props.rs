//! Property tests for the stdio line framing and the SSE framing: round trips, independence
//! from how the input is split into chunks, and robustness against arbitrary bytes.

use std::fmt::Debug;

use mcp_proto::framing::lines::{
    LineDecodeError, LineDecoder, LineLimits, LineStatus, encode_line,
};
use mcp_proto::framing::sse::{
    SseDecodeError, SseDecoder, SseEvent, SseItem, SseLimits, SseStatus, encode_comment,
};
use proptest::prelude::*;
use proptest::sample::Index;

/// Uniform access to both decoders for the caller loop.
trait StreamDecoder {
    type Item: Debug + PartialEq;
    type Error: Debug + PartialEq;
    /// One `decode` call: bytes consumed and the item, or `None` for "need more".
    fn step(&mut self, buf: &[u8]) -> Result<(usize, Option<Self::Item>), Self::Error>;
    fn end(&mut self, buf: &[u8]) -> Result<(), Self::Error>;
    /// Most bytes the caller may still hold after "need more".
    fn max_retained(&self) -> usize;
}

impl StreamDecoder for LineDecoder {
    type Item = Vec<u8>;
    type Error = LineDecodeError;

    fn step(&mut self, buf: &[u8]) -> Result<(usize, Option<Vec<u8>>), LineDecodeError> {
        Ok(match self.decode(buf)? {
            LineStatus::Line { line, consumed } => (consumed, Some(line.to_vec())),
            LineStatus::NeedMore { consumed } => (consumed, None),
        })
    }

    fn end(&mut self, buf: &[u8]) -> Result<(), LineDecodeError> {
        self.finish(buf)
    }

    fn max_retained(&self) -> usize {
        // A trailing `\r` may still turn out to be part of the line ending.
        self.limits().max_line_len.saturating_add(1)
    }
}

impl StreamDecoder for SseDecoder {
    type Item = SseItem;
    type Error = SseDecodeError;

    fn step(&mut self, buf: &[u8]) -> Result<(usize, Option<SseItem>), SseDecodeError> {
        Ok(match self.decode(buf)? {
            SseStatus::Item { item, consumed } => (consumed, Some(item)),
            SseStatus::NeedMore { consumed } => (consumed, None),
        })
    }

    fn end(&mut self, buf: &[u8]) -> Result<(), SseDecodeError> {
        self.finish(buf)
    }

    fn max_retained(&self) -> usize {
        // A partial byte order mark is at most two bytes.
        self.limits().max_line_len.max(2)
    }
}

/// Everything a caller observes, in order.
#[derive(Debug, Clone, PartialEq)]
enum Observed<I, E> {
    Item(I),
    Error(E),
    /// What `finish` said at end of input.
    End(Result<(), E>),
}

type Observations<D> = Vec<Observed<<D as StreamDecoder>::Item, <D as StreamDecoder>::Error>>;

/// Splits `input` at the given points (any order, duplicates allowed).
fn split_at_points<'a>(input: &'a [u8], points: &[Index]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p.index(input.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut chunks = Vec::new();
    let mut rest = input;
    let mut rest_start = 0;
    for cut in cuts {
        let (chunk, after) = rest.split_at(cut - rest_start);
        chunks.push(chunk);
        rest = after;
        rest_start = cut;
    }
    chunks.push(rest);
    chunks
}

/// The realistic caller loop: append each chunk to a buffer, decode until "need more", drop
/// consumed bytes, and call `finish` at the end. Checks the decoder's side of the contract on
/// the way: consumption within the buffer, progress on every call, an idle repeat after
/// "need more", and a bounded leftover buffer.
fn drive<D: StreamDecoder>(mut decoder: D, chunks: &[&[u8]]) -> (Observations<D>, D) {
    let total: usize = chunks.iter().map(|c| c.len()).sum();
    // Every item and error moves past at least one byte, and every chunk ends with one "need
    // more" and its repeat.
    let call_budget = 2 * total + 3 * chunks.len() + 10;
    let mut calls = 0;
    let mut buf = Vec::new();
    let mut observed = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            calls += 1;
            assert!(calls <= call_budget, "decoder makes no progress");
            match decoder.step(&buf) {
                Ok((consumed, item)) => {
                    assert!(
                        consumed <= buf.len(),
                        "consumed {consumed} of {}",
                        buf.len()
                    );
                    buf.drain(..consumed);
                    match item {
                        Some(item) => observed.push(Observed::Item(item)),
                        None => {
                            calls += 1;
                            let again = decoder.step(&buf);
                            assert!(
                                matches!(again, Ok((0, None))),
                                "repeat after need-more gave {again:?}"
                            );
                            assert!(
                                buf.len() <= decoder.max_retained(),
                                "caller holds {} bytes",
                                buf.len()
                            );
                            break;
                        }
                    }
                }
                Err(error) => observed.push(Observed::Error(error)),
            }
        }
    }
    observed.push(Observed::End(decoder.end(&buf)));
    (observed, decoder)
}

fn byte_at_a_time(input: &[u8]) -> Vec<&[u8]> {
    input.chunks(1).collect()
}

type LineObserved = Observed<Vec<u8>, LineDecodeError>;
type SseObserved = Observed<SseItem, SseDecodeError>;

fn decode_lines(limits: LineLimits, chunks: &[&[u8]]) -> Vec<LineObserved> {
    drive(LineDecoder::with_limits(limits), chunks).0
}

/// Observations plus the decoder's persistent state at the end.
fn decode_sse(limits: SseLimits, chunks: &[&[u8]]) -> (Vec<SseObserved>, String, Option<u64>) {
    let (observed, decoder) = drive(SseDecoder::with_limits(limits), chunks);
    (
        observed,
        decoder.last_event_id().to_owned(),
        decoder.reconnection_time(),
    )
}

/// What the line decoder must report for `stream`, written independently of it.
fn line_model(stream: &[u8], max: usize) -> Vec<LineObserved> {
    let mut expected = Vec::new();
    let mut pieces: Vec<&[u8]> = stream.split(|&b| b == b'\n').collect();
    let tail = pieces.pop().unwrap_or_default();
    for raw in pieces {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.len() > max {
            expected.push(Observed::Error(LineDecodeError::LineTooLong { max }));
        } else if !line.is_empty() {
            expected.push(Observed::Item(line.to_vec()));
        }
    }
    let tail_known_len = tail.strip_suffix(b"\r").unwrap_or(tail).len();
    if tail_known_len > max {
        expected.push(Observed::Error(LineDecodeError::LineTooLong { max }));
        expected.push(Observed::End(Ok(())));
    } else if tail.is_empty() {
        expected.push(Observed::End(Ok(())));
    } else {
        expected.push(Observed::End(Err(LineDecodeError::TruncatedLine {
            len: tail.len(),
        })));
    }
    expected
}

fn no_line_break_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        8 => b'a'..=b'z',
        1 => Just(b'\r'),
        1 => any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
    ]
}

/// Lines of up to 40 bytes (often over a small limit) with `\n` or `\r\n` endings, blank lines
/// included, and maybe an unterminated tail.
fn line_stream() -> impl Strategy<Value = Vec<u8>> {
    let line = (
        prop::collection::vec(no_line_break_byte(), 0..40),
        prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..])],
    );
    (
        prop::collection::vec(line, 0..12),
        prop::collection::vec(no_line_break_byte(), 0..40),
    )
        .prop_map(|(lines, tail)| {
            let mut stream = Vec::new();
            for (content, ending) in lines {
                stream.extend_from_slice(&content);
                stream.extend_from_slice(ending);
            }
            stream.extend_from_slice(&tail);
            stream
        })
}

fn text(chars: impl Strategy<Value = char>, max_len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(chars, 0..max_len).prop_map(|chars| chars.into_iter().collect())
}

fn any_text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range('a', 'z'),
        1 => Just(' '),
        1 => Just(':'),
        1 => Just('\r'),
        1 => Just('\n'),
        1 => Just('\0'),
        1 => any::<char>(),
    ]
}

fn single_line_char() -> impl Strategy<Value = char> {
    any_text_char().prop_filter("no line break", |c| *c != '\r' && *c != '\n')
}

fn id_char() -> impl Strategy<Value = char> {
    single_line_char().prop_filter("no NUL", |c| *c != '\0')
}

/// Any item the encoder accepts.
fn sse_item() -> impl Strategy<Value = SseItem> {
    let event = (
        prop::option::of(text(single_line_char(), 12)),
        text(any_text_char(), 40),
        prop::option::of(text(id_char(), 12)),
        prop::option::of(any::<u64>()),
    )
        .prop_map(|(event, data, id, retry)| {
            SseItem::Event(SseEvent {
                event,
                data,
                id,
                retry,
            })
        });
    let no_data = (
        prop::option::of(text(id_char(), 12)),
        prop::option::of(any::<u64>()),
    )
        .prop_map(|(id, retry)| SseItem::NoData { id, retry });
    let comment = text(single_line_char(), 20).prop_map(SseItem::Comment);
    prop_oneof![4 => event, 1 => no_data, 1 => comment]
}

/// What `item` decodes back to: data line endings become `\n`, an empty event type is the
/// default type, and an empty `NoData` is not on the wire at all.
fn sse_normalised(item: &SseItem) -> Option<SseItem> {
    match item {
        SseItem::Event(event) => Some(SseItem::Event(SseEvent {
            event: event.event.clone().filter(|t| !t.is_empty()),
            data: event.data.replace("\r\n", "\n").replace('\r', "\n"),
            ..event.clone()
        })),
        SseItem::NoData {
            id: None,
            retry: None,
        } => None,
        other => Some(other.clone()),
    }
}

/// Raw event-stream lines, valid or not: every field kind, comments, blank lines, values
/// over the small limits used below, invalid UTF-8 and NUL in ids.
fn sse_line() -> impl Strategy<Value = Vec<u8>> {
    let value = || text(single_line_char(), 10);
    prop_oneof![
        3 => value().prop_map(|v| format!("data: {v}").into_bytes()),
        1 => value().prop_map(|v| format!("data:{v}").into_bytes()),
        1 => Just(b"data".to_vec()),
        1 => value().prop_map(|v| format!("id: {v}").into_bytes()),
        1 => value().prop_map(|v| format!("event: {v}").into_bytes()),
        1 => (0u64..100_000).prop_map(|ms| format!("retry: {ms}").into_bytes()),
        1 => value().prop_map(|v| format!("retry: {v}").into_bytes()),
        1 => value().prop_map(|v| format!(":{v}").into_bytes()),
        1 => value().prop_map(|v| format!("x-unknown{v}").into_bytes()),
        4 => Just(Vec::new()),
        1 => (20usize..60).prop_map(|n| format!("data: {}", "x".repeat(n)).into_bytes()),
        1 => (20usize..60).prop_map(|n| format!(": {}", "c".repeat(n)).into_bytes()),
        1 => Just(b"data: bad \xFF utf-8".to_vec()),
        1 => Just(b"\xE2\x82".to_vec()),
    ]
}

fn sse_line_ending() -> impl Strategy<Value = &'static [u8]> {
    prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..])]
}

/// A stream of raw lines with mixed endings, maybe a byte order mark, maybe an unterminated
/// last line.
fn sse_stream() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        prop::collection::vec((sse_line(), sse_line_ending()), 0..16),
        prop::option::of(sse_line()),
    )
        .prop_map(|(bom, lines, tail)| {
            let mut stream = Vec::new();
            if bom {
                stream.extend_from_slice(b"\xEF\xBB\xBF");
            }
            for (line, ending) in lines {
                stream.extend_from_slice(&line);
                stream.extend_from_slice(ending);
            }
            stream.extend(tail.unwrap_or_default());
            stream
        })
}

/// Bytes biased towards what the SSE and line parsers react to.
fn interesting_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => any::<u8>(),
        2 => Just(b'\n'),
        2 => Just(b'\r'),
        1 => Just(b':'),
        1 => Just(b' '),
        2 => prop::sample::select(&b"dataeventidretry"[..]),
        1 => prop::sample::select(&b"\xEF\xBB\xBF"[..]),
    ];
    prop::collection::vec(byte, 0..300)
}

fn small_sse_limits() -> SseLimits {
    SseLimits::new(48, 24)
}

fn split_points() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lines_round_trip(
        messages in prop::collection::vec(
            prop::collection::vec(
                any::<u8>().prop_filter("no line break", |b| *b != b'\n' && *b != b'\r'),
                1..60,
            ),
            0..20,
        ),
        points in split_points(),
    ) {
        let mut wire = Vec::new();
        for message in &messages {
            encode_line(message, &mut wire).unwrap();
        }
        let mut expected: Vec<LineObserved> =
            messages.iter().cloned().map(Observed::Item).collect();
        expected.push(Observed::End(Ok(())));
        let limits = LineLimits::default();
        prop_assert_eq!(&decode_lines(limits, &[&wire]), &expected);
        prop_assert_eq!(&decode_lines(limits, &split_at_points(&wire, &points)), &expected);
    }

    #[test]
    fn lines_match_the_model_however_split(stream in line_stream(), points in split_points()) {
        let limits = LineLimits::with_max_line_len(16);
        let whole = decode_lines(limits, &[&stream]);
        prop_assert_eq!(&whole, &line_model(&stream, 16));
        prop_assert_eq!(&decode_lines(limits, &split_at_points(&stream, &points)), &whole);
        prop_assert_eq!(&decode_lines(limits, &byte_at_a_time(&stream)), &whole);
    }

    #[test]
    fn lines_survive_arbitrary_bytes(
        input in interesting_bytes(),
        max in prop_oneof![Just(0usize), Just(1), Just(8), Just(64), Just(4 * 1024 * 1024)],
        points in split_points(),
    ) {
        let limits = LineLimits::with_max_line_len(max);
        let whole = decode_lines(limits, &[&input]);
        prop_assert_eq!(&whole, &line_model(&input, max));
        prop_assert_eq!(&decode_lines(limits, &split_at_points(&input, &points)), &whole);
        prop_assert_eq!(&decode_lines(limits, &byte_at_a_time(&input)), &whole);
    }

    #[test]
    fn sse_round_trip(
        items in prop::collection::vec(sse_item(), 0..12),
        points in split_points(),
    ) {
        let mut wire = Vec::new();
        for item in &items {
            item.encode(&mut wire).unwrap();
        }
        let mut expected: Vec<SseObserved> =
            items.iter().filter_map(sse_normalised).map(Observed::Item).collect();
        expected.push(Observed::End(Ok(())));
        let expected_last_id = items
            .iter()
            .rev()
            .find_map(|item| match item {
                SseItem::Event(SseEvent { id, .. }) | SseItem::NoData { id, .. } => id.clone(),
                SseItem::Comment(_) => None,
                _ => unreachable!(),
            })
            .unwrap_or_default();

        let (whole, last_id, _) = decode_sse(SseLimits::default(), &[&wire]);
        prop_assert_eq!(&whole, &expected);
        prop_assert_eq!(last_id, expected_last_id);
        let chunks = split_at_points(&wire, &points);
        prop_assert_eq!(&decode_sse(SseLimits::default(), &chunks).0, &expected);
    }

    #[test]
    fn sse_priming_event_round_trips(id in text(id_char(), 12)) {
        let mut wire = Vec::new();
        SseEvent::new("").with_id(id.clone()).encode(&mut wire).unwrap();
        let (observed, last_id, _) = decode_sse(SseLimits::default(), &byte_at_a_time(&wire));
        prop_assert_eq!(
            observed,
            vec![
                Observed::Item(SseItem::Event(SseEvent::new("").with_id(id.clone()))),
                Observed::End(Ok(())),
            ]
        );
        prop_assert_eq!(last_id, id);
    }

    #[test]
    fn sse_is_split_invariant(stream in sse_stream(), points in split_points()) {
        let limits = small_sse_limits();
        let whole = decode_sse(limits, &[&stream]);
        prop_assert_eq!(&decode_sse(limits, &split_at_points(&stream, &points)), &whole);
        prop_assert_eq!(&decode_sse(limits, &byte_at_a_time(&stream)), &whole);
    }

    #[test]
    fn sse_survives_arbitrary_bytes(
        input in interesting_bytes(),
        small in any::<bool>(),
        points in split_points(),
    ) {
        let limits = if small { small_sse_limits() } else { SseLimits::default() };
        let whole = decode_sse(limits, &[&input]);
        prop_assert_eq!(&decode_sse(limits, &split_at_points(&input, &points)), &whole);
        prop_assert_eq!(&decode_sse(limits, &byte_at_a_time(&input)), &whole);
    }
}

/// The generators above do produce the paths the split properties are meant to exercise.
#[test]
fn split_properties_reach_the_error_paths() {
    let stream = b"data: 0123456789012345678901234567890\r\ndata: a\r\r: \xFF\ndata: b\r\n\r\n";
    let whole = decode_sse(small_sse_limits(), &[stream]);
    assert_eq!(
        whole.0,
        vec![
            Observed::Error(SseDecodeError::LineTooLong { max: 24 }),
            Observed::Error(SseDecodeError::InvalidUtf8 { valid_up_to: 2 }),
            Observed::Item(SseItem::Event(SseEvent::new("b"))),
            Observed::End(Ok(())),
        ]
    );
    for cut in 0..=stream.len() {
        let (head, tail) = stream.split_at(cut);
        assert_eq!(
            decode_sse(small_sse_limits(), &[head, tail]),
            whole,
            "cut at {cut}"
        );
    }

    let mut keep_alive = Vec::new();
    encode_comment("keep-alive", &mut keep_alive).unwrap();
    assert_eq!(
        decode_sse(SseLimits::default(), &byte_at_a_time(&keep_alive)).0,
        vec![
            Observed::Item(SseItem::Comment("keep-alive".to_owned())),
            Observed::End(Ok(())),
        ]
    );
}
