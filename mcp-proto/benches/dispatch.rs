//! A `tools/call` from bytes in to bytes out, answered with an echo result by the benchmark:
//!
//! - over Streamable HTTP (`HttpServer`): the HTTP/1.1 request parsed, the POST validated and
//!   routed, the request event answered through the endpoint, the response encoded — for a
//!   modern (2026-07-28, stateless) request and for a legacy request on an established session;
//! - stdio-style, without HTTP: a line decoded and handed to the MCP server role
//!   (`ServerEndpoint`), modern and legacy, and to the bare JSON-RPC engine (`Connection`).
//!
//! Throughput is in messages (requests answered).
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use common::{ConnectionBench, HttpBench, StdioBench, response_body};

/// The answer must be the echo of `"hello, world"` to request 7, or the bench measures an error.
fn check_answer(json: &[u8]) {
    let answer: serde_json::Value = serde_json::from_slice(json).expect("a JSON answer");
    assert_eq!(answer["id"], 7, "{answer}");
    assert_eq!(
        answer["result"]["content"][0]["text"], "hello, world",
        "{answer}"
    );
}

fn http_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch/http");
    group.throughput(Throughput::Elements(1));
    for (name, mut bench) in [
        ("modern_tools_call", HttpBench::modern()),
        ("legacy_session_tools_call", HttpBench::legacy()),
    ] {
        let response = bench.exchange().to_vec();
        assert!(response.starts_with(b"HTTP/1.1 200 OK\r\n"), "{response:?}");
        check_answer(response_body(&response));
        group.bench_function(name, |b| b.iter(|| bench.exchange().len()));
    }
    group.finish();
}

fn stdio_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch/stdio");
    group.throughput(Throughput::Elements(1));
    for (name, mut bench) in [
        ("modern_tools_call", StdioBench::modern()),
        ("legacy_session_tools_call", StdioBench::legacy()),
    ] {
        let line = bench.exchange().to_vec();
        check_answer(line.strip_suffix(b"\n").expect("a framed line"));
        group.bench_function(format!("server_endpoint/{name}"), |b| {
            b.iter(|| bench.exchange().len());
        });
    }
    let mut bench = ConnectionBench::new();
    let line = bench.exchange().to_vec();
    check_answer(line.strip_suffix(b"\n").expect("a framed line"));
    group.bench_function("connection/tools_call", |b| {
        b.iter(|| bench.exchange().len());
    });
    group.finish();
}

criterion_group!(benches, http_benches, stdio_benches);
criterion_main!(benches);
