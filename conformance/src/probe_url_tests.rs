//! The probe against our own fixture on both runtimes (no FAIL allowed), and against a small
//! deliberately wrong server (its violations must be reported).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use mcp_async::stack::Stack;

use super::*;
use crate::serve::{self, MCP_PATH, RuntimeKind};

fn verdict_of(report: &Report, id: &str) -> Verdict {
    report
        .results
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no check {id} in\n{report}"))
        .verdict
}

#[test]
fn accept_ids_are_unique_and_readable() {
    let slugs: Vec<String> = ACCEPT_TABLE.iter().map(|r| accept_slug(r.lines)).collect();
    let distinct: HashSet<&String> = slugs.iter().collect();
    assert_eq!(distinct.len(), slugs.len(), "{slugs:?}");
    assert_eq!(accept_slug(&["*/*"]), "any");
    assert_eq!(
        accept_slug(&["application/json", "text/event-stream"]),
        "json&sse"
    );
    assert_eq!(
        accept_slug(&["Application/JSON, Text/Event-Stream"]),
        "mixedcase-json+sse"
    );
    assert_eq!(
        accept_slug(&["application/json;q=0, text/event-stream"]),
        "json.q0+sse"
    );
    assert_eq!(accept_slug(&[]), "absent");
    assert_eq!(accept_slug(&[""]), "empty");
    assert!(slugs.iter().all(|s| !s.contains(char::is_whitespace)));
}

#[test]
fn only_rows_naming_both_types_are_musts() {
    let musts: Vec<&str> = ACCEPT_TABLE
        .iter()
        .filter(|row| accept_is_mcp_compliant(row))
        .map(|row| row.name)
        .collect();
    assert!(musts.contains(&"two Accept lines combine"), "{musts:?}");
    assert!(
        musts.contains(&"media types are case-insensitive"),
        "{musts:?}"
    );
    assert!(
        !musts.iter().any(|name| name.contains("*/*")),
        "wildcards are HTTP's rule, not MCP's: {musts:?}"
    );
}

/// The fixture served in-process on one runtime until dropped.
struct Served {
    url: String,
    stop: smol::channel::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.stop.try_send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve_until<S: Stack>(
    url: std::sync::mpsc::Sender<String>,
    stop: smol::channel::Receiver<()>,
) {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let handle = serve::start_http::<S>(addr).await.unwrap();
    url.send(handle.url(MCP_PATH)).unwrap();
    let _ = stop.recv().await;
    handle.shutdown().await;
}

fn serve_fixture(runtime: RuntimeKind) -> Served {
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = smol::channel::bounded(1);
    let thread = std::thread::spawn(move || {
        let result = match runtime {
            RuntimeKind::Smol => {
                serve::block_on(runtime, serve_until::<mcp_smol::Smol>(url_tx, stopped))
            }
            RuntimeKind::Tokio => {
                serve::block_on(runtime, serve_until::<mcp_tokio::Tokio>(url_tx, stopped))
            }
        };
        result.unwrap();
    });
    let url = url_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    Served {
        url,
        stop,
        thread: Some(thread),
    }
}

fn our_fixture_passes(runtime: RuntimeKind) {
    let served = serve_fixture(runtime);
    let options = ProbeOptions {
        origins_allowed: vec!["http://localhost:5173".into()],
        ..ProbeOptions::default()
    };
    let report = probe(&served.url, &options).unwrap();
    assert_eq!(
        report.eras, "modern (2026-07-28); legacy (2025-11-25, with sessions)",
        "{report}"
    );
    let failed: Vec<&CheckResult> = report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .collect();
    assert!(failed.is_empty(), "{runtime}: {failed:#?}\n{report}");
    // Both eras were probed: nothing skipped for want of an era.
    let skipped: Vec<&str> = report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Skip)
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        skipped.is_empty(),
        "{runtime}: skipped {skipped:?}\n{report}"
    );
    for id in [
        "notification-202@legacy",
        "session-deleted-404@legacy",
        "origin-foreign-403@modern",
        "origin-allowed[http://localhost:5173]@legacy",
        "accept:any@modern",
        "body-too-large-413",
        "alive-after-abuse@modern",
        "alive-after-abuse@legacy",
    ] {
        assert_eq!(verdict_of(&report, id), Verdict::Pass, "{id}\n{report}");
    }
}

#[test]
fn our_smol_fixture_has_no_failure() {
    our_fixture_passes(RuntimeKind::Smol);
}

#[test]
fn our_tokio_fixture_has_no_failure() {
    our_fixture_passes(RuntimeKind::Tokio);
}

/// A server with the bugs other SDKs shipped: a case-sensitive substring test of Accept (406
/// for `*/*` and for `Application/JSON, Text/Event-Stream`), and 200 with a body for a
/// notification. Legacy only; sessions are issued but never checked.
struct WrongServer {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for WrongServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn wrong_server() -> WrongServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        while !stopping.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((conn, _)) => serve_wrongly(conn),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    WrongServer {
        url,
        stop,
        thread: Some(thread),
    }
}

fn respond(conn: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &str) {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let _ = conn.write_all(out.as_bytes());
}

fn serve_wrongly(mut conn: TcpStream) {
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (method, accept, length, head_len) = loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let values = |name: &str| -> Vec<String> {
                    request
                        .headers
                        .iter()
                        .filter(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).into_owned())
                        .collect()
                };
                let length = values("content-length")
                    .first()
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                break (
                    request.method.unwrap_or_default().to_owned(),
                    values("accept").join(", "),
                    length,
                    len,
                );
            }
            Ok(httparse::Status::Partial) if buf.len() < 65536 => {}
            _ => return,
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    if method != "POST" {
        return respond(
            &mut conn,
            "405 Method Not Allowed",
            &[("Allow", "POST")],
            "",
        );
    }
    if length > 1024 * 1024 {
        return respond(&mut conn, "413 Payload Too Large", &[], "");
    }
    let mut body = buf.split_off(head_len);
    while body.len() < length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let json = [("Content-Type", "application/json")];
    // The bug: a case-sensitive substring test.
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return respond(&mut conn, "406 Not Acceptable", &[], "");
    }
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        let error =
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"#;
        return respond(&mut conn, "400 Bad Request", &json, error);
    };
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let answer = match message.get("method").and_then(Value::as_str) {
        Some("initialize") => {
            let result = json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "wrong", "version": "0"},
            });
            let body = json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string();
            let headers = [json[0], ("Mcp-Session-Id", "wrong-session-1")];
            return respond(&mut conn, "200 OK", &headers, &body);
        }
        Some("tools/list") => json!({"jsonrpc": "2.0", "id": id, "result": {"tools": []}}),
        // The other bug: a notification answered with 200 and a body.
        Some(_) if message.get("id").is_none() => json!({}),
        _ => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no"}}),
    };
    respond(&mut conn, "200 OK", &json, &answer.to_string());
}

#[test]
fn a_wrong_server_gets_its_failures() {
    let server = wrong_server();
    let options = ProbeOptions {
        limits: Limits {
            timeout: Duration::from_secs(5),
            ..Limits::default()
        },
        ..ProbeOptions::default()
    };
    let report = probe(&server.url, &options).unwrap();
    assert_eq!(
        report.eras,
        "no modern era; legacy (2025-11-25, with sessions)"
    );
    for (id, verdict) in [
        ("notification-202@legacy", Verdict::Fail),
        ("accept:mixedcase-json+sse@legacy", Verdict::Fail),
        ("accept:any@legacy", Verdict::Warn),
        ("accept:json&sse@legacy", Verdict::Pass),
        ("session-unknown-404@legacy", Verdict::Fail),
        ("put-405", Verdict::Pass),
        ("body-too-large-413", Verdict::Pass),
        ("notification-202@modern", Verdict::Skip),
        ("alive-after-abuse@legacy", Verdict::Pass),
    ] {
        assert_eq!(verdict_of(&report, id), verdict, "{id}\n{report}");
    }
    let notification = report
        .results
        .iter()
        .find(|r| r.id == "notification-202@legacy")
        .unwrap();
    let observed = notification.observed.as_deref().unwrap_or_default();
    assert!(observed.starts_with("200 application/json"), "{observed}");
    // The command's verdict: a FAIL means exit status 1.
    let args = [
        "--url".to_owned(),
        server.url.clone(),
        "--timeout".into(),
        "5".into(),
    ];
    assert_eq!(probe_command(&args), Ok(false));
}

#[test]
fn an_unreachable_url_is_an_error_not_a_report() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/mcp");
    assert!(matches!(
        probe(&url, &ProbeOptions::default()),
        Err(ProbeError::Unreachable { .. })
    ));
    assert!(matches!(
        probe("https://127.0.0.1/mcp", &ProbeOptions::default()),
        Err(ProbeError::Url(_))
    ));
    assert!(probe_command(&["--url".into(), url]).is_err());
    assert!(probe_command(&[]).is_err());
}
