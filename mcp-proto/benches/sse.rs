//! Server-Sent Events: encoding events (id + one-line JSON data, multi-line data) and decoding
//! a stream of them delivered whole or split into small chunks. Throughput is in bytes.
#![allow(clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mcp_proto::framing::{SseDecoder, SseEvent, SseItem, SseStatus};

/// A JSON-RPC answer as one data line, with an event id (a legacy stream's event).
fn json_event(seq: u64) -> SseEvent {
    let json = r#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"hello, world"}],"resultType":"complete"}}"#;
    SseEvent::new(json).with_id(format!("0-{seq}"))
}

/// 4 KiB of text with a line break every 80 characters: about 52 `data` lines.
fn multi_line_event() -> SseEvent {
    SseEvent::new(common::text_of_len(4096)).with_id("0-1")
}

fn encoded(events: &[SseEvent]) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        event.encode(&mut out).expect("a valid event");
    }
    out
}

fn encode_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("sse/encode");
    for (name, event) in [
        ("id_and_json_data", json_event(17)),
        ("multi_line_4k", multi_line_event()),
    ] {
        let len = encoded(std::slice::from_ref(&event)).len();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(format!("{name}/{len}B"), |b| {
            let mut out = Vec::with_capacity(len);
            b.iter(|| {
                out.clear();
                black_box(&event).encode(&mut out).expect("a valid event");
                out.len()
            });
        });
    }
    group.finish();
}

/// Feeds `wire` in `chunk`-byte reads, taking items by offset and compacting once per read.
fn decode_stream(decoder: &mut SseDecoder, buf: &mut Vec<u8>, wire: &[u8], chunk: usize) -> usize {
    let mut events = 0;
    for read in wire.chunks(chunk) {
        buf.extend_from_slice(read);
        let mut offset = 0;
        loop {
            let rest = buf.get(offset..).unwrap_or_default();
            match decoder.decode(rest).expect("a valid stream") {
                SseStatus::Item { item, consumed } => {
                    if let SseItem::Event(event) = item {
                        black_box(event);
                        events += 1;
                    }
                    offset += consumed;
                }
                SseStatus::NeedMore { consumed } => {
                    offset += consumed;
                    break;
                }
            }
        }
        buf.drain(..offset);
    }
    events
}

fn decode_benches(c: &mut Criterion) {
    let streams = [
        (
            "32_json_events",
            encoded(&(0..32).map(json_event).collect::<Vec<_>>()),
            32,
        ),
        ("multi_line_4k", encoded(&[multi_line_event()]), 1),
    ];
    let mut group = c.benchmark_group("sse/decode");
    for (name, wire, expected) in &streams {
        group.throughput(Throughput::Bytes(wire.len() as u64));
        for chunk in [61, wire.len()] {
            let split = if chunk == wire.len() {
                "whole".to_owned()
            } else {
                format!("chunks_of_{chunk}")
            };
            group.bench_function(format!("{name}/{}B/{split}", wire.len()), |b| {
                let mut decoder = SseDecoder::new();
                let mut buf = Vec::with_capacity(wire.len());
                b.iter(|| {
                    let events = decode_stream(&mut decoder, &mut buf, black_box(wire), chunk);
                    assert_eq!(events, *expected);
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, encode_benches, decode_benches);
criterion_main!(benches);
