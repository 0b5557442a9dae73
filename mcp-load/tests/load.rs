//! The load tool against real servers for a fraction of a second: our smol server in this
//! process (both eras, idle sessions), the ceiling responder over HTTP and (spawned) over
//! stdio, and a server that answers some calls wrongly, whose every wrong answer must be
//! counted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcp_async::http_serve::HttpServeOptions;
use mcp_load::ceiling::Ceiling;
use mcp_load::http::{self, HttpLoad, Target};
use mcp_load::idle::{self, IdleLoad};
use mcp_load::report::LoadRecord;
use mcp_load::stdio::{self, StdioLoad};
use mcp_load::wire::Era;
use mcp_proto::h1::{BodyDecoder, BodyStatus, Limits, parse_request_head, request_body_framing};

const WARMUP: Duration = Duration::from_millis(100);
const DURATION: Duration = Duration::from_millis(400);
const TIMEOUT: Duration = Duration::from_secs(10);

/// Our demo server (with `echo`) served by mcp-smol in this process; its URL.
fn our_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        smol::block_on(async move {
            let server = mcp_async::demo::demo_server(mcp_smol::SmolRuntime);
            let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
            let handle = mcp_smol::serve_http(server, addr, HttpServeOptions::default())
                .await
                .unwrap();
            tx.send(handle.url("/mcp")).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv_timeout(TIMEOUT).unwrap()
}

fn http_load(url: &str, era: Era, sessions: u32) -> HttpLoad {
    HttpLoad {
        target: Target::parse(url).unwrap(),
        era,
        sessions,
        threads: 1,
        message_bytes: 0,
        call_timeout: TIMEOUT,
        same_ids: false,
    }
}

/// The counts of a clean run agree with each other.
fn assert_consistent(record: &LoadRecord, outcome_calls: u64) {
    assert_eq!(record.errors, 0, "{:?}", record.error_samples);
    assert!(record.calls > 0, "no call completed");
    assert_eq!(record.calls, outcome_calls);
    let expected_rate = record.calls as f64 / record.seconds;
    assert!((record.calls_per_second - expected_rate).abs() < 1e-6 * expected_rate.max(1.0));
    assert!(
        record.seconds >= DURATION.as_secs_f64() * 0.9,
        "{}",
        record.seconds
    );
    assert!(
        0.0 < record.p50_us && record.p50_us <= record.p99_us,
        "{record:?}"
    );
    assert!(record.p99_us <= record.max_us, "{record:?}");
    assert!(record.load_tool_cpu_us_per_call.is_some());
}

#[test]
fn http_runs_against_our_server_in_both_eras() {
    let url = our_server();
    for era in [Era::Legacy, Era::Modern] {
        let mut load = http_load(&url, era, 4);
        // One driver thread, or sessions shared by two.
        load.threads = if era == Era::Legacy { 1 } else { 2 };
        // The server is this process: its CPU time is read like any other pid's.
        let outcome = http::run(&load, WARMUP, DURATION, Some(std::process::id())).unwrap();
        assert_eq!(outcome.stats.hist.count(), outcome.stats.calls);
        let record = http::record("ours-smol", &load, &outcome, None);
        assert_eq!(record.scenario, format!("http-4-{}", era.as_str()));
        assert_consistent(&record, outcome.stats.calls);
        assert!(record.server_cpu_us_per_call.is_some_and(|cpu| cpu > 0.0));
    }
}

#[test]
fn idle_sessions_are_held_and_checked() {
    let url = our_server();
    for detached in [false, true] {
        let load = IdleLoad {
            target: Target::parse(&url).unwrap(),
            sessions: 40,
            threads: 3,
            hold: Duration::from_millis(50),
            server_pid: Some(std::process::id()),
            call_timeout: TIMEOUT,
            detached,
        };
        idle::preflight(&load.target, TIMEOUT).unwrap();
        let outcome = idle::run(&load).unwrap();
        assert_eq!(outcome.errors.total(), 0, "{:?}", outcome.errors.samples);
        assert_eq!((outcome.opened, outcome.held), (40, 40));
        let record = idle::record("ours-smol", &load, &outcome);
        assert!(record.rss_before_kib.is_some() && record.per_session_kib.is_some());
    }
}

#[test]
fn ceiling_answers_both_eras_and_stops() {
    let ceiling = Ceiling::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = format!("http://{}/mcp", ceiling.local_addr());
    let stopper = ceiling.stopper();
    let serving = std::thread::spawn(move || ceiling.run());
    for era in [Era::Legacy, Era::Modern] {
        let load = http_load(&url, era, 8);
        let outcome = http::run(&load, WARMUP, DURATION, None).unwrap();
        let record = http::record("ceiling", &load, &outcome, None);
        assert_consistent(&record, outcome.stats.calls);
        assert_eq!(record.server_cpu_us_per_call, None, "no pid was given");
    }
    stopper.stop();
    serving.join().unwrap().unwrap();
}

#[test]
fn stdio_runs_against_the_spawned_ceiling() {
    for window in [1, 16] {
        let load = StdioLoad {
            command: vec![
                env!("CARGO_BIN_EXE_mcp-load").into(),
                "ceiling".into(),
                "--stdio".into(),
            ],
            window,
            era: Era::Legacy,
            message_bytes: 64,
            call_timeout: TIMEOUT,
        };
        let outcome = stdio::run(&load, WARMUP, DURATION).unwrap();
        let record = stdio::record("ceiling", &load, &outcome, None);
        assert_eq!(record.scenario, format!("stdio-w{window}"));
        assert_consistent(&record, outcome.stats.calls);
        // The child's pid is known: its CPU time is always measured.
        assert!(record.server_cpu_us_per_call.is_some());
    }
}

#[test]
fn a_server_that_cannot_be_spawned_or_measured_is_an_error_not_a_result() {
    let load = StdioLoad {
        command: vec!["/nonexistent/mcp-server".into()],
        window: 1,
        era: Era::Legacy,
        message_bytes: 0,
        call_timeout: TIMEOUT,
    };
    assert!(stdio::run(&load, WARMUP, DURATION).is_err());
}

/// What the wrong server sent, to compare with what the tool counted.
#[derive(Default)]
struct Sent {
    requests: AtomicU64,
    wrong_text: AtomicU64,
    wrong_id: AtomicU64,
}

/// How the fake server answers.
#[derive(Clone, Copy)]
struct Style {
    /// Every 5th request (counting from the second) gets another text and every 5th (from
    /// the fourth) another id.
    wrong: bool,
    /// Answer as a chunked SSE stream: a priming event, a notification, then the answer.
    sse: bool,
}

/// A modern-era "server": answers `tools/call` with the echo, as `style` says.
fn fake_server(sent: Arc<Sent>, style: Style) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let sent = Arc::clone(&sent);
            std::thread::spawn(move || serve_fake(stream.unwrap(), &sent, style));
        }
    });
    url
}

fn serve_fake(mut stream: TcpStream, sent: &Sent, style: Style) {
    let limits = Limits::default();
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let (request, head_len) = loop {
            if let Some(parsed) = parse_request_head(&buffer, &limits).unwrap() {
                break parsed;
            }
            let n = stream.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                return;
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        buffer.drain(..head_len);
        let mut decoder = BodyDecoder::new(request_body_framing(&request).unwrap(), &limits);
        let mut body = Vec::new();
        loop {
            match decoder.decode(&buffer).unwrap() {
                BodyStatus::Data { data, consumed } => {
                    body.extend_from_slice(data);
                    buffer.drain(..consumed);
                }
                BodyStatus::End { consumed } => {
                    buffer.drain(..consumed);
                    break;
                }
                BodyStatus::NeedMore { consumed } => {
                    buffer.drain(..consumed);
                    let n = stream.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                }
            }
        }
        let call: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let mut id = call["id"].as_u64().unwrap_or_default();
        let mut text = call["params"]["arguments"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match sent.requests.fetch_add(1, Ordering::SeqCst) % 5 {
            _ if !style.wrong => {}
            1 => {
                text.push_str("-wrong");
                sent.wrong_text.fetch_add(1, Ordering::SeqCst);
            }
            3 => {
                id += 1000;
                sent.wrong_id.fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        }
        let answer = serde_json::json!({
            "jsonrpc": "2.0", "id": id,
            "result": {"content": [{"type": "text", "text": text}]}
        })
        .to_string();
        let response = if style.sse {
            let events = format!(
                "id: 1\ndata:\n\n\
                 event: message\ndata: {{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{{}}}}\n\n\
                 event: message\ndata: {answer}\n\n"
            );
            // Two chunks, split inside an event.
            let (first, second) = events.split_at(events.len() / 2);
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n\
                 {:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
                first.len(),
                second.len()
            )
        } else {
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                answer.len()
            )
        };
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn every_wrong_answer_is_counted() {
    let sent = Arc::new(Sent::default());
    let style = Style {
        wrong: true,
        sse: false,
    };
    let url = fake_server(Arc::clone(&sent), style);
    let load = http_load(&url, Era::Modern, 3);
    let outcome = http::run(&load, WARMUP, DURATION, None).unwrap();
    let record = http::record("wrong", &load, &outcome, None);
    let wrong_text = sent.wrong_text.load(Ordering::SeqCst);
    let wrong_id = sent.wrong_id.load(Ordering::SeqCst);
    assert!(wrong_text > 0 && wrong_id > 0);
    assert_eq!(record.error_kinds.get("wrong-text"), Some(&wrong_text));
    assert_eq!(record.error_kinds.get("wrong-id"), Some(&wrong_id));
    assert_eq!(record.errors, wrong_text + wrong_id);
    assert_eq!(record.error_kinds.len(), 2, "{:?}", record.error_kinds);
    // Right answers still count; wrong ones never do.
    assert!(record.calls > 0);
    let requests = sent.requests.load(Ordering::SeqCst);
    assert!(
        record.calls + record.errors <= requests,
        "{record:?} of {requests}"
    );
}

#[test]
fn a_server_without_the_era_fails_the_preflight() {
    // The fake server answers its first request (the preflight) correctly only in the modern
    // era; a legacy `initialize` gets an echo result without `protocolVersion`.
    let sent = Arc::new(Sent::default());
    let style = Style {
        wrong: true,
        sse: false,
    };
    let url = fake_server(Arc::clone(&sent), style);
    let error = http::run(&http_load(&url, Era::Legacy, 1), WARMUP, DURATION, None).unwrap_err();
    assert!(
        matches!(error, mcp_load::LoadError::Preflight(_)),
        "{error}"
    );
}

#[test]
fn sse_answers_after_notifications_are_accepted() {
    let sent = Arc::new(Sent::default());
    let style = Style {
        wrong: false,
        sse: true,
    };
    let url = fake_server(Arc::clone(&sent), style);
    let mut load = http_load(&url, Era::Modern, 4);
    load.threads = 2;
    let outcome = http::run(&load, WARMUP, DURATION, None).unwrap();
    let record = http::record("sse", &load, &outcome, None);
    assert_consistent(&record, outcome.stats.calls);
    assert!(record.calls <= sent.requests.load(Ordering::SeqCst));
}
