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

pub(crate) struct App<K> {
    server: Server,
    running: Vec<Running<K>>,
    progress_sender: async_channel::Sender<(K, RequestId, Progress)>,
    progress: std::pin::Pin<Box<async_channel::Receiver<(K, RequestId, Progress)>>>,
}

impl<K: Clone + PartialEq + Send + Sync + 'static> App<K> {
    pub(crate) fn new(server: Server) -> Self {
        let (progress_sender, progress) = async_channel::bounded(PROGRESS_QUEUE);
        Self {
            server,
            running: Vec::new(),
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
    }

    /// Polls the handlers (unless `answers` is false: the peer is not reading) and the
    /// progress queue.
    pub(crate) fn poll(&mut self, cx: &mut TaskContext<'_>, answers: bool) -> Poll<Produced<K>> {
        if answers {
            for index in 0..self.running.len() {
                let Some(handler) = self.running.get_mut(index) else {
                    break;
                };
                if let Poll::Ready(answer) = handler.answer.as_mut().poll(cx) {
                    let handler = self.running.swap_remove(index);
                    return Poll::Ready(Produced::Answer(handler.key, handler.id, answer));
                }
            }
        }
        if let Poll::Ready(Some((key, id, report))) = self.progress.as_mut().poll_next(cx) {
            return Poll::Ready(Produced::Progress(key, id, report));
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
