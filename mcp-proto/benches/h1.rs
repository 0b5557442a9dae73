//! The HTTP/1.1 codec: a typical MCP POST (head and body, Content-Length or chunked) parsed,
//! and a JSON response and an SSE response head encoded. Throughput is in bytes.
#![allow(clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mcp_proto::h1::{
    BodyDecoder, BodyFraming, BodyStatus, Limits, encode_chunk, encode_last_chunk,
    encode_response_head, parse_request_head, request_body_framing,
};

/// Parses one request (head and body) from `wire`; returns the body length.
fn parse_request(wire: &[u8], limits: &Limits, body: &mut Vec<u8>) -> usize {
    let (request, head_len) = parse_request_head(wire, limits)
        .expect("a valid head")
        .expect("a complete head");
    let framing = request_body_framing(&request).expect("valid framing");
    let mut decoder = BodyDecoder::new(framing, limits);
    let mut rest = wire.get(head_len..).unwrap_or_default();
    body.clear();
    loop {
        let status = decoder.decode(rest).expect("a valid body");
        rest = rest.get(status.consumed()..).unwrap_or_default();
        match status {
            BodyStatus::Data { data, .. } => body.extend_from_slice(data),
            BodyStatus::End { .. } => break,
            BodyStatus::NeedMore { .. } => panic!("the whole body is in the buffer"),
        }
    }
    black_box(request);
    body.len()
}

/// The modern `tools/call` POST re-framed with `Transfer-Encoding: chunked`, in 64-byte chunks.
fn chunked_post() -> Vec<u8> {
    let body = common::tools_call_modern(7);
    let mut wire = b"POST /mcp HTTP/1.1\r\n\
        Host: 127.0.0.1:8080\r\n\
        User-Agent: bench-client/1.0\r\n\
        Content-Type: application/json\r\n\
        Accept: application/json, text/event-stream\r\n\
        Mcp-Protocol-Version: 2026-07-28\r\n\
        Mcp-Method: tools/call\r\n\
        Mcp-Name: echo\r\n\
        Transfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    for chunk in body.as_bytes().chunks(64) {
        encode_chunk(chunk, &mut wire);
    }
    encode_last_chunk(&mut wire);
    wire
}

fn parse_benches(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("h1/parse_request");
    for (name, wire) in [
        ("post_content_length", common::modern_tools_call_post()),
        ("post_chunked", chunked_post()),
    ] {
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_function(format!("{name}/{}B", wire.len()), |b| {
            let mut body = Vec::with_capacity(wire.len());
            b.iter(|| parse_request(black_box(&wire), &limits, &mut body));
        });
    }
    group.finish();
}

fn encode_benches(c: &mut Criterion) {
    let body = br#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"hello, world"}],"resultType":"complete"}}"#;
    let json = http::Response::builder()
        .header("content-type", "application/json")
        .body(())
        .expect("a valid response");
    let sse = http::Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .header("x-accel-buffering", "no")
        .header("mcp-session-id", "3q2-7w8bZr4Xk1YpQm0aLg")
        .body(())
        .expect("a valid response");
    let mut group = c.benchmark_group("h1/encode_response");
    let mut out = Vec::with_capacity(1024);
    out.clear();
    encode_response_head(&json, BodyFraming::Length(body.len() as u64), &mut out)
        .expect("a valid head");
    out.extend_from_slice(body);
    group.throughput(Throughput::Bytes(out.len() as u64));
    group.bench_function(format!("json_200/{}B", out.len()), |b| {
        b.iter(|| {
            out.clear();
            encode_response_head(
                black_box(&json),
                BodyFraming::Length(body.len() as u64),
                &mut out,
            )
            .expect("a valid head");
            out.extend_from_slice(black_box(body));
            out.len()
        });
    });
    out.clear();
    encode_response_head(&sse, BodyFraming::Chunked, &mut out).expect("a valid head");
    group.throughput(Throughput::Bytes(out.len() as u64));
    group.bench_function(format!("sse_head_chunked/{}B", out.len()), |b| {
        b.iter(|| {
            out.clear();
            encode_response_head(black_box(&sse), BodyFraming::Chunked, &mut out)
                .expect("a valid head");
            out.len()
        });
    });
    group.finish();
}

criterion_group!(benches, parse_benches, encode_benches);
criterion_main!(benches);
