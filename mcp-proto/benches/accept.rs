//! `Accept` negotiation: typical MCP clients, wildcards, q-values, a browser's header, and a
//! header split over two field lines. Throughput is in headers.
#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mcp_proto::http::parse_accept;

fn accept_benches(c: &mut Criterion) {
    let headers: [(&str, &[&str]); 6] = [
        ("typical", &["application/json, text/event-stream"]),
        ("wildcard", &["*/*"]),
        (
            "q_values",
            &["application/json;q=0.9, text/event-stream;q=1.0, application/*;q=0.5, */*;q=0.1"],
        ),
        (
            "browser",
            &[
                "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8",
            ],
        ),
        (
            "parameters_any_case",
            &["Application/JSON; charset=UTF-8, TEXT/Event-Stream;Q=0.5"],
        ),
        ("two_lines", &["application/json", "text/event-stream"]),
    ];
    let mut group = c.benchmark_group("http/parse_accept");
    group.throughput(Throughput::Elements(1));
    for (name, lines) in headers {
        let len: usize = lines.iter().map(|l| l.len()).sum();
        group.bench_function(format!("{name}/{len}B"), |b| {
            b.iter(|| {
                parse_accept(black_box(lines).iter().map(|l| l.as_bytes()))
                    .expect("a valid Accept")
                    .preferred()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, accept_benches);
criterion_main!(benches);
