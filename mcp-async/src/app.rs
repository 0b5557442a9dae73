//! The server application inside a connection task: turns the engine's requests into
//! running handler futures, polls them, and hands their answers back — for one connection
//! (stdio) or for many endpoints at once (the HTTP server's sessions), told apart by a key.

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use futures_lite::Stream;
use mcp_proto::engine::{CloseReport, ServerEndpoint, ServerEvent};
use mcp_proto::jsonrpc::{ErrorObject, RequestId};
use serde_json::Value;

use crate::runtime::BoxFuture;
use crate::server::{Context, Progress, ProgressSink, Server};

/// The most handler progress reports queued for the connection task.
const PROGRESS_QUEUE: usize = 256;

struct Running<K> {
    key: K,
    id: RequestId,
    answer: BoxFuture<'static, Result<Value, ErrorObject>>,
    /// Dropped with the handler: closes its context's cancellation signal.
    _cancel: async_channel::Sender<()>,
}

/// What the application produced for the endpoint keyed `key`.
pub(crate) enum Produced<K> {
    /// A handler finished.
    Answer(K, RequestId, Result<Value, ErrorObject>),
    /// A handler reported progress.
    Progress(K, RequestId, Progress),
}

/// An answer held back until the progress its handler reported before finishing is out.
struct Finished<K> {
    key: K,
    id: RequestId,
    answer: Result<Value, ErrorObject>,
}

pub(crate) struct App<K> {
    server: Server,
    running: Vec<Running<K>>,
    /// An answer whose handler finished while its progress reports may still be queued: a
    /// report delivered after its request's answer would be dropped (the request is settled).
    finished: Option<Finished<K>>,
    progress_sender: async_channel::Sender<(K, RequestId, Progress)>,
    progress: std::pin::Pin<Box<async_channel::Receiver<(K, RequestId, Progress)>>>,
}

impl<K: Clone + PartialEq + Send + Sync + 'static> App<K> {
    pub(crate) fn new(server: Server) -> Self {
        let (progress_sender, progress) = async_channel::bounded(PROGRESS_QUEUE);
        Self {
            server,
            running: Vec::new(),
            finished: None,
            progress_sender,
            progress: Box::pin(progress),
        }
    }

    /// Takes in one event of the endpoint keyed `key`; returns its close report when it
    /// closed.
    pub(crate) fn on_event(&mut self, key: &K, event: ServerEvent) -> Option<CloseReport> {
        match event {
            ServerEvent::Request {
                id,
                request,
                context,
            } => {
                let (cancel, cancelled) = async_channel::bounded(1);
                let sender = self.progress_sender.clone();
                let sink_key = key.clone();
                let sink: ProgressSink = Arc::new(move |id: &RequestId, report: Progress| {
                    // Progress is advisory: a full queue drops the report.
                    let _ = sender.try_send((sink_key.clone(), id.clone(), report));
                });
                let context = Context::new(id.clone(), context, Some(sink), cancelled);
                self.running.push(Running {
                    key: key.clone(),
                    id,
                    answer: self.server.dispatch(context, request),
                    _cancel: cancel,
                });
                None
            }
            ServerEvent::Cancelled { id } => {
                self.running.retain(|r| !(r.key == *key && r.id == id));
                if self
                    .finished
                    .as_ref()
                    .is_some_and(|f| f.key == *key && f.id == id)
                {
                    self.finished = None;
                }
                None
            }
            ServerEvent::Closed(report) => {
                self.forget(key);
                Some(report)
            }
            ServerEvent::InvalidMessage(error) => {
                tracing::debug!(%error, "invalid message from a client (answered)");
                None
            }
            _ => None,
        }
    }

    /// Drops every handler of the endpoint keyed `key` (it ended).
    pub(crate) fn forget(&mut self, key: &K) {
        self.running.retain(|r| r.key != *key);
        if self.finished.as_ref().is_some_and(|f| f.key == *key) {
            self.finished = None;
        }
    }

    /// Polls the progress queue and the handlers (unless `answers` is false: the peer is not
    /// reading). Progress comes first: every report a handler made before it finished is
    /// produced before its answer.
    pub(crate) fn poll(&mut self, cx: &mut TaskContext<'_>, answers: bool) -> Poll<Produced<K>> {
        if let Poll::Ready(Some((key, id, report))) = self.progress.as_mut().poll_next(cx) {
            return Poll::Ready(Produced::Progress(key, id, report));
        }
        if !answers {
            return Poll::Pending;
        }
        // The queue is empty here, so the held-back answer's reports are all out.
        if let Some(Finished { key, id, answer }) = self.finished.take() {
            return Poll::Ready(Produced::Answer(key, id, answer));
        }
        for index in 0..self.running.len() {
            let Some(handler) = self.running.get_mut(index) else {
                break;
            };
            if let Poll::Ready(answer) = handler.answer.as_mut().poll(cx) {
                let Running { key, id, .. } = self.running.swap_remove(index);
                // Reports made during this last poll may still be queued: they go first, then
                // the answer.
                self.finished = Some(Finished { key, id, answer });
                return self.poll(cx, answers);
            }
        }
        Poll::Pending
    }
}

/// Applies what the application produced to the endpoint it belongs to.
pub(crate) fn apply(
    endpoint: &mut ServerEndpoint,
    id: &RequestId,
    produced: Result<Value, ErrorObject>,
) {
    let sent = match produced {
        Ok(result) => endpoint.respond(id, &result),
        Err(error) => endpoint.respond_error(id, error),
    };
    if let Err(error) = sent {
        tracing::debug!(%error, %id, "answer not sent");
    }
}

/// Sends a progress report through the endpoint.
pub(crate) fn report_progress(endpoint: &mut ServerEndpoint, id: &RequestId, report: Progress) {
    let _ = endpoint.progress(id, report.progress, report.total, report.message);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::time::Instant;

    use futures_lite::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use mcp_proto::types::{CallToolResult, Tool};
    use serde_json::{Value, json};

    use crate::runtime::{BoxFuture, Runtime};
    use crate::serve::serve_lines;
    use crate::server::{HandlerError, Server};

    /// Needs neither tasks nor timers: the test's requests settle at once.
    #[derive(Debug, Clone)]
    struct NoRuntime;

    impl Runtime for NoRuntime {
        fn spawn(&self, _task: BoxFuture<'static, ()>) {}
        fn sleep_until(&self, _deadline: Instant) -> BoxFuture<'static, ()> {
            Box::pin(std::future::pending())
        }
    }

    /// A tool that reports progress three times and answers in the same poll (as any handler
    /// does whose last step reports progress, then returns).
    fn stepping_server() -> Server {
        let tool: Tool = serde_json::from_value(json!({
            "name": "steps", "inputSchema": {"type": "object"}
        }))
        .unwrap();
        Server::builder("t", "1")
            .tool(tool, |ctx, _args| async move {
                for step in 1..=3 {
                    ctx.progress(f64::from(step), Some(3.0), None);
                }
                Ok::<_, HandlerError>(CallToolResult::text("done"))
            })
            .build()
    }

    #[test]
    fn progress_reported_before_a_handler_returns_reaches_the_client_before_its_answer() {
        let (server_input, mut to_server) = piper::pipe(64 * 1024);
        let (from_server, server_output) = piper::pipe(64 * 1024);
        let serving = serve_lines(
            NoRuntime,
            stepping_server(),
            server_input,
            server_output,
            std::future::pending(),
        );
        let client = async move {
            for line in [
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"}}}),
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                    "name": "steps", "arguments": {}, "_meta": {"progressToken": "p"}}}),
            ] {
                to_server
                    .write_all(format!("{line}\n").as_bytes())
                    .await
                    .unwrap();
            }
            let mut lines = BufReader::new(from_server).lines();
            let mut progress = Vec::new();
            loop {
                let line = futures_lite::StreamExt::next(&mut lines)
                    .await
                    .expect("the server answers")
                    .unwrap();
                let message: Value = serde_json::from_str(&line).unwrap();
                if message["method"] == "notifications/progress" {
                    progress.push(message["params"]["progress"].as_f64().unwrap());
                } else if message["id"] == 2 {
                    assert_eq!(message["result"]["content"][0]["text"], "done");
                    return progress;
                }
            }
        };
        let progress = futures_lite::future::block_on(futures_lite::future::or(client, async {
            serving.await;
            panic!("the server ended before answering")
        }));
        assert_eq!(progress, [1.0, 2.0, 3.0]);
    }
}
