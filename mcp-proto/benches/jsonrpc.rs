//! JSON-RPC decode and encode: a small request, a `tools/call` with arguments, a response with
//! 4 KiB of text, a notification. Throughput is in messages.
#![allow(clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mcp_proto::jsonrpc::{DecodeOptions, decode, encode_into};

fn fixtures() -> Vec<(&'static str, String)> {
    vec![
        ("small_request", common::SMALL_REQUEST.to_owned()),
        ("tools_call", common::tools_call_modern(42)),
        ("response_4k", common::response_4k()),
        ("notification", common::NOTIFICATION.to_owned()),
    ]
}

fn decode_benches(c: &mut Criterion) {
    let options = DecodeOptions::default();
    let mut group = c.benchmark_group("jsonrpc/decode");
    group.throughput(Throughput::Elements(1));
    for (name, json) in fixtures() {
        let bytes = json.into_bytes();
        group.bench_function(format!("{name}/{}B", bytes.len()), |b| {
            b.iter(|| decode(black_box(&bytes), &options).expect("a valid message"));
        });
    }
    group.finish();
}

fn encode_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("jsonrpc/encode");
    group.throughput(Throughput::Elements(1));
    for (name, json) in fixtures() {
        let message = common::message(&json);
        let mut out = Vec::with_capacity(json.len() * 2);
        group.bench_function(format!("{name}/{}B", json.len()), |b| {
            b.iter(|| {
                out.clear();
                encode_into(black_box(&message), &mut out);
                out.len()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, decode_benches, encode_benches);
criterion_main!(benches);
