//! stdio framing: the newline-delimited decoder fed a stream of 64 messages in chunks, and the
//! line encoder. Throughput is in bytes of the stream.
#![allow(clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mcp_proto::framing::{LineDecoder, LineStatus, encode_line};

/// 64 messages, a mix of `tools/call`, notifications and small requests.
fn messages() -> Vec<String> {
    (0..64u64)
        .map(|i| match i % 4 {
            0 | 1 => common::tools_call_modern(i),
            2 => common::NOTIFICATION.to_owned(),
            _ => common::SMALL_REQUEST.to_owned(),
        })
        .collect()
}

fn wire() -> Vec<u8> {
    let mut wire = Vec::new();
    for message in messages() {
        encode_line(message.as_bytes(), &mut wire).expect("a compact message");
    }
    wire
}

/// Feeds `wire` in `chunk`-byte reads into a caller buffer, as an adapter does: lines are
/// taken by offset and the buffer is compacted once per read. Returns the lines seen.
fn decode_stream(decoder: &mut LineDecoder, buf: &mut Vec<u8>, wire: &[u8], chunk: usize) -> usize {
    let mut lines = 0;
    for read in wire.chunks(chunk) {
        buf.extend_from_slice(read);
        let mut offset = 0;
        loop {
            let rest = buf.get(offset..).unwrap_or_default();
            match decoder.decode(rest).expect("lines within limits") {
                LineStatus::Line { line, consumed } => {
                    black_box(line);
                    lines += 1;
                    offset += consumed;
                }
                LineStatus::NeedMore { consumed } => {
                    offset += consumed;
                    break;
                }
            }
        }
        buf.drain(..offset);
    }
    lines
}

/// The same, dropping each line from the front of the buffer as soon as it is taken (what
/// `mcp-async`'s line transport does): every line moves the rest of the buffer.
fn decode_stream_drain_per_line(
    decoder: &mut LineDecoder,
    buf: &mut Vec<u8>,
    wire: &[u8],
    chunk: usize,
) -> usize {
    let mut lines = 0;
    for read in wire.chunks(chunk) {
        buf.extend_from_slice(read);
        loop {
            let status = decoder.decode(buf).expect("lines within limits");
            let consumed = status.consumed();
            let more = matches!(status, LineStatus::Line { .. });
            if let LineStatus::Line { line, .. } = status {
                black_box(line);
                lines += 1;
            }
            buf.drain(..consumed);
            if !more {
                break;
            }
        }
    }
    lines
}

fn decode_benches(c: &mut Criterion) {
    let wire = wire();
    let mut group = c.benchmark_group("lines/decode");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    for chunk in [61, 4096, 65536] {
        group.bench_function(
            format!("64_messages/{}B/chunks_of_{chunk}", wire.len()),
            |b| {
                let mut decoder = LineDecoder::new();
                let mut buf = Vec::with_capacity(2 * chunk);
                b.iter(|| {
                    let lines = decode_stream(&mut decoder, &mut buf, black_box(&wire), chunk);
                    assert_eq!(lines, 64);
                });
            },
        );
    }
    for chunk in [4096, 65536] {
        group.bench_function(
            format!(
                "64_messages/{}B/chunks_of_{chunk}/drain_per_line",
                wire.len()
            ),
            |b| {
                let mut decoder = LineDecoder::new();
                let mut buf = Vec::with_capacity(2 * chunk);
                b.iter(|| {
                    let lines = decode_stream_drain_per_line(
                        &mut decoder,
                        &mut buf,
                        black_box(&wire),
                        chunk,
                    );
                    assert_eq!(lines, 64);
                });
            },
        );
    }
    group.finish();
}

fn encode_benches(c: &mut Criterion) {
    let messages = messages();
    let total: usize = messages.iter().map(|m| m.len() + 1).sum();
    let mut group = c.benchmark_group("lines/encode");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function(format!("64_messages/{total}B"), |b| {
        let mut out = Vec::with_capacity(total);
        b.iter(|| {
            out.clear();
            for message in &messages {
                encode_line(black_box(message.as_bytes()), &mut out).expect("a compact message");
            }
            out.len()
        });
    });
    let response = common::response_4k();
    group.throughput(Throughput::Bytes(response.len() as u64 + 1));
    group.bench_function(format!("response_4k/{}B", response.len() + 1), |b| {
        let mut out = Vec::with_capacity(response.len() + 1);
        b.iter(|| {
            out.clear();
            encode_line(black_box(response.as_bytes()), &mut out).expect("a compact message");
            out.len()
        });
    });
    group.finish();
}

criterion_group!(benches, decode_benches, encode_benches);
criterion_main!(benches);
