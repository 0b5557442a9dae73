//! The MCP endpoint as a [`tower_service::Service`] (feature `tower`), to mount in an axum or
//! hyper router next to other routes.
//!
//! [`McpService`] takes `http::Request<B>` for any [`http_body::Body`] and answers
//! `http::Response<`[`McpBody`]`>`: a whole JSON body, or an SSE stream whose events are sent
//! as the server produces them. Behind it runs the same owner task as
//! [`serve_http`](crate::http_serve::serve_http) — the same engines, so the same checks
//! (`Origin`, `Host`, `Accept`, `Content-Type`, protocol versions, sessions) with the same
//! statuses; only the HTTP/1.1 parsing is left to the framework.
//!
//! # Paths
//!
//! The router chose the route, so the service serves the Streamable HTTP endpoint (both eras)
//! on **whatever path it receives**; [`HttpServeOptions::path`] is not consulted (nor
//! [`HttpServeOptions::max_connections`]: the framework owns the connections). When
//! [`HttpServeOptions::legacy_sse`] is set, requests whose path equals its `sse` path (`GET`)
//! or its `messages` path (`POST`) go to the deprecated HTTP+SSE transport instead: mount
//! clones of the service on those routes too. The paths are compared with the request's path
//! as the service sees it (axum's `route_service` keeps the whole path; `nest_service` strips
//! the prefix), and the `endpoint` event names `messages` as it is, so set both to the paths
//! clients use.
//!
//! # Bodies and limits
//!
//! A request body is read whole before the engine sees it, at most
//! [`Limits::max_body_bytes`](mcp_proto::h1::Limits::max_body_bytes) of
//! [`HttpServeOptions::limits`] (the bound of the HTTP/1.1 listener): a larger body — declared
//! or streamed — gets the listener's 413, a body that fails to arrive gets 400. The other
//! limits are about parsing heads, which the framework does. Under HTTP/2 the authority of the
//! URI stands for the missing `Host` header, which the engine checks.
//!
//! # Lifetime
//!
//! [`McpService::new`] spawns the owner task and returns the service (cheap to clone: a channel
//! sender and the options) with an [`McpServiceHandle`]. [`McpServiceHandle::shutdown`] stops
//! it gracefully (open exchanges get [`HttpServeOptions::stop_grace`]; later requests get 503)
//! and reports. Dropping the handle instead leaves the service running until every clone of it
//! and every response body it produced is gone; then the owner ends too.
//!
//! A response body dropped before its stream ended (the client went away) tells the owner, which
//! closes the exchange as it does for a connection closed on the listener: a modern request's
//! call is cancelled; a legacy stream can be resumed, an HTTP+SSE session ends.
//!
//! ```no_run
//! use mcp_async::http_serve::{HttpServeOptions, HttpServeReport};
//! use mcp_async::runtime::Runtime;
//! use mcp_async::server::Server;
//! use mcp_async::tower::{McpBody, McpService};
//! use tower_service::Service;
//!
//! async fn answer<R: Runtime>(runtime: &R, server: Server) -> HttpServeReport {
//!     let (mut service, handle) = McpService::new(runtime, server, HttpServeOptions::default());
//!     // A router would do this; the Host header is checked like any other.
//!     let request = http::Request::post("/mcp")
//!         .header("host", "localhost")
//!         .body(String::from("{}"))
//!         .unwrap();
//!     let response: http::Response<McpBody> = match service.call(request).await {
//!         Ok(response) => response,
//!         Err(never) => match never {},
//!     };
//!     assert_eq!(response.status(), 415); // no `Content-Type: application/json`
//!     handle.shutdown().await
//! }
//! ```

use std::convert::Infallible;
use std::error::Error;
use std::fmt;
use std::future::poll_fn;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::header::HOST;
use http::{HeaderValue, StatusCode};
use http_body::{Body, Frame, SizeHint};
use mcp_proto::h1::{BodyFraming, H1Error, Limits};
use mcp_proto::streamable::HttpOutput;

use crate::entropy::os_entropy;
use crate::exchange::ExchangeReceiver;
use crate::http_serve::{
    EndpointPath, Front, HttpServeOptions, HttpServeReport, Inbound, OnHandleDrop, OwnerTask,
    allowed_methods, route, spawn_owner, submit,
};
use crate::resource_server::Gate;
use crate::runtime::{BoxFuture, Runtime};
use crate::server::Server;

/// The error type request bodies may fail with.
type BoxError = Box<dyn Error + Send + Sync>;

/// The MCP endpoint as a `tower_service::Service<http::Request<B>>`; see the
/// [module docs](self). Errors are responses: its own error type is [`Infallible`].
#[derive(Clone)]
pub struct McpService {
    inbound: crate::channel::Sender<Inbound>,
    options: Arc<HttpServeOptions>,
    /// The token check, with [`HttpServeOptions::bearer_auth`].
    gate: Option<Gate>,
}

impl fmt::Debug for McpService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpService")
            .field("serving", &!self.inbound.is_closed())
            .field("options", &self.options)
            .finish()
    }
}

/// Stops the owner task of an [`McpService`] and reports how serving ended.
#[derive(Debug)]
pub struct McpServiceHandle {
    owner: OwnerTask,
}

impl McpServiceHandle {
    /// Stops serving: open exchanges get the stop grace, then the rest are cut (their bodies
    /// end with [`StreamCut`]); requests arriving after the owner ended get 503. The report's
    /// connection counts are zero: the framework owns the connections.
    pub async fn shutdown(self) -> HttpServeReport {
        self.owner.shutdown().await
    }
}

impl McpService {
    /// Spawns the owner task of `server` on `runtime` and returns the service that feeds it,
    /// with the handle that stops it. Legacy session ids come from the OS's random source.
    #[must_use]
    pub fn new<R: Runtime>(
        runtime: &R,
        server: Server,
        options: HttpServeOptions,
    ) -> (Self, McpServiceHandle) {
        let (front, inbound) = Front::requests();
        let owner = spawn_owner(
            runtime,
            server,
            front,
            options.clone(),
            os_entropy,
            OnHandleDrop::Detach,
        );
        let gate = options.auth.clone().map(|auth| Gate::new(runtime, auth));
        let service = Self {
            inbound,
            options: Arc::new(options),
            gate,
        };
        (service, McpServiceHandle { owner })
    }

    async fn serve<B>(self, request: http::Request<B>) -> http::Response<McpBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let (mut parts, body) = request.into_parts();
        if let Some(response) = self.gate.as_ref().and_then(|g| g.metadata_response(&parts)) {
            return response.map(McpBody::full);
        }
        let machine = match route(&parts, &self.options, EndpointPath::AnyOther) {
            Ok(machine) => machine,
            Err(status) => {
                let mut response = status_only(status);
                if status == StatusCode::METHOD_NOT_ALLOWED {
                    let allow = allowed_methods(parts.uri.path(), &self.options);
                    response
                        .headers_mut()
                        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
                }
                return response;
            }
        };
        if !parts.headers.contains_key(HOST)
            && let Some(authority) = parts.uri.authority()
            && let Ok(host) = HeaderValue::from_str(authority.as_str())
        {
            parts.headers.insert(HOST, host);
        }
        // The token is checked before the body is read: a client without one uploads nothing.
        let principal = match &self.gate {
            Some(gate) => match gate.authenticate(&parts.headers).await {
                Ok(principal) => Some(principal),
                Err(refusal) => return (*refusal).map(McpBody::full),
            },
            None => None,
        };
        let body = match collect_body(body, &self.options.limits).await {
            Ok(body) => body,
            Err(CollectError::Limit(error)) => {
                tracing::debug!(%error, "refusing a request body");
                return status_only(error.status());
            }
            Err(CollectError::Body(error)) => {
                tracing::debug!(%error, "a request body failed to arrive");
                return status_only(StatusCode::BAD_REQUEST);
            }
        };
        if let (Some(gate), Some(principal)) = (&self.gate, &principal)
            && let Err(refusal) = gate.authorize(principal, &parts.method, &body)
        {
            return (*refusal).map(McpBody::full);
        }
        let Some(outputs) = submit(&self.inbound, machine, parts, body, principal).await else {
            // The owner has ended (shut down).
            return status_only(StatusCode::SERVICE_UNAVAILABLE);
        };
        let exchange = Exchange {
            inbound: self.inbound,
            outputs,
            settled: false,
        };
        exchange.response().await
    }
}

impl<B> tower_service::Service<http::Request<B>> for McpService
where
    B: Body + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<McpBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    /// Always ready: the owner's bounded queue applies backpressure inside each call.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.serve(request).await) })
    }
}

fn status_only(status: StatusCode) -> http::Response<McpBody> {
    let mut response = http::Response::new(McpBody::full(Vec::new()));
    *response.status_mut() = status;
    response
}

/// Why a request body was not taken.
#[derive(Debug)]
enum CollectError {
    /// Larger than the limit (413).
    Limit(H1Error),
    /// The body failed (400).
    Body(BoxError),
}

/// Reads `body` whole, refusing it as soon as it is known to exceed `limits.max_body_bytes`:
/// from its declared size before reading anything, else as it arrives.
async fn collect_body<B>(body: B, limits: &Limits) -> Result<Vec<u8>, CollectError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let declared = BodyFraming::Length(body.size_hint().lower());
    limits
        .check_declared_body(declared)
        .map_err(CollectError::Limit)?;
    let mut body = pin!(body);
    let mut collected = Vec::new();
    while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|error| CollectError::Body(error.into()))?;
        // Trailers carry nothing the engine reads.
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let total = u64::try_from(collected.len().saturating_add(data.remaining()));
        if total.unwrap_or(u64::MAX) > limits.max_body_bytes {
            return Err(CollectError::Limit(H1Error::BodyTooLarge {
                limit: limits.max_body_bytes,
            }));
        }
        collected.reserve(data.remaining());
        while data.has_remaining() {
            let chunk = data.chunk();
            collected.extend_from_slice(chunk);
            let taken = chunk.len();
            data.advance(taken);
        }
    }
    Ok(collected)
}

/// One exchange with the owner, from the request sent to the response's end. Dropped before
/// that end, it tells the owner the exchange is closed.
struct Exchange {
    inbound: crate::channel::Sender<Inbound>,
    outputs: ExchangeReceiver,
    /// The owner knows the exchange is over: it sent its end, or closed it itself.
    settled: bool,
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("opened", &self.outputs.opened())
            .field("settled", &self.settled)
            .finish_non_exhaustive()
    }
}

impl Exchange {
    /// Waits for the response's head: a whole response, or an event stream's head with the
    /// exchange itself as the body.
    async fn response(mut self) -> http::Response<McpBody> {
        let Some(output) = self.outputs.recv().await else {
            // The owner closed the exchange unanswered: it is stopping.
            self.settled = true;
            return status_only(StatusCode::SERVICE_UNAVAILABLE);
        };
        match output {
            HttpOutput::Respond { response, .. } => {
                self.settled = true;
                response.map(McpBody::full)
            }
            HttpOutput::StartEvents { head, .. } => head.map(|()| McpBody {
                inner: Inner::Events(self),
            }),
            output => {
                tracing::error!(?output, "events before their stream's head; closing it");
                status_only(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// The event stream's next piece: bytes, its end (`None`), or its cut.
    fn poll_events(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, StreamCut>>> {
        loop {
            let next = match self.outputs.poll_recv(cx) {
                Poll::Ready(next) => next,
                Poll::Pending => return Poll::Pending,
            };
            return Poll::Ready(match next {
                Some(HttpOutput::Events { bytes, .. }) => {
                    if bytes.is_empty() {
                        continue;
                    }
                    Some(Ok(Bytes::from(bytes)))
                }
                Some(HttpOutput::EndEvents { .. }) => {
                    self.settled = true;
                    None
                }
                Some(other) => {
                    tracing::error!(?other, "not an event on an event stream; closing it");
                    Some(Err(StreamCut))
                }
                // Cut by the owner: a client reading too slowly, or the stop grace ran out.
                None => {
                    self.settled = true;
                    Some(Err(StreamCut))
                }
            });
        }
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        // What the owner queued since the last look may have opened or ended the exchange.
        while !self.settled
            && let Some(output) = self.outputs.try_recv()
        {
            if matches!(
                output,
                HttpOutput::Respond { .. } | HttpOutput::EndEvents { .. }
            ) {
                self.settled = true;
            }
        }
        if self.settled {
            return;
        }
        let Some((machine, stream)) = self.outputs.opened() else {
            // Not opened yet: the owner closes it when its first output finds no reader.
            return;
        };
        if self
            .inbound
            .try_send(Inbound::Closed(machine, stream))
            .is_err()
        {
            tracing::debug!(
                ?stream,
                "the owner's queue is full or closed; the exchange closes at its next output"
            );
        }
    }
}

/// The body of an [`McpService`] response: whole bytes, or an SSE stream that yields each
/// event as the server sends it and ends with the exchange.
#[derive(Debug)]
pub struct McpBody {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Full(Option<Bytes>),
    Events(Exchange),
    Ended,
}

impl McpBody {
    fn full(bytes: Vec<u8>) -> Self {
        let bytes = (!bytes.is_empty()).then(|| Bytes::from(bytes));
        Self {
            inner: Inner::Full(bytes),
        }
    }
}

/// An event stream the server ended without its proper end: it was stopping and the stop
/// grace ran out, or the client read too slowly and the exchange's queue filled up. The
/// framework then aborts the response, so the client sees a truncated stream rather than a
/// complete one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the MCP server cut the event stream")]
pub struct StreamCut;

impl Body for McpBody {
    type Data = Bytes;
    type Error = StreamCut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamCut>>> {
        let this = self.get_mut();
        let next = match &mut this.inner {
            Inner::Full(bytes) => return Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Inner::Ended => return Poll::Ready(None),
            Inner::Events(exchange) => match exchange.poll_events(cx) {
                Poll::Ready(next) => next,
                Poll::Pending => return Poll::Pending,
            },
        };
        if !matches!(next, Some(Ok(_))) {
            // Dropping the exchange now tells the owner, unless it already knows.
            this.inner = Inner::Ended;
        }
        Poll::Ready(next.map(|piece| piece.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.inner, Inner::Full(None) | Inner::Ended)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Inner::Ended => SizeHint::with_exact(0),
            Inner::Events(_) => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use futures_lite::future::{block_on, or, poll_once, yield_now, zip};
    use mcp_proto::types::{CallToolResult, Tool};
    use serde_json::json;
    use tower_service::Service;

    use super::*;
    use crate::server::HandlerError;

    /// Keeps spawned tasks for the test to drive; its timers never fire.
    #[derive(Clone, Default)]
    struct Held(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);

    impl fmt::Debug for Held {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Held")
        }
    }

    impl Runtime for Held {
        fn spawn(&self, task: BoxFuture<'static, ()>) {
            self.0.lock().unwrap().push(task);
        }

        fn sleep_until(&self, _deadline: Instant) -> BoxFuture<'static, ()> {
            Box::pin(std::future::pending())
        }
    }

    impl Held {
        fn owner(&self) -> BoxFuture<'static, ()> {
            self.0
                .lock()
                .unwrap()
                .pop()
                .expect("the owner task was spawned")
        }
    }

    /// A body of the given frames that declares `declared` bytes and counts its polls.
    struct Frames {
        frames: VecDeque<Result<Bytes, std::io::Error>>,
        declared: u64,
        polls: Arc<AtomicUsize>,
    }

    impl Frames {
        fn new(frames: &[&str], declared: u64) -> (Self, Arc<AtomicUsize>) {
            let polls = Arc::new(AtomicUsize::new(0));
            let frames = frames
                .iter()
                .map(|frame| Ok(Bytes::copy_from_slice(frame.as_bytes())))
                .collect();
            let body = Self {
                frames,
                declared,
                polls: Arc::clone(&polls),
            };
            (body, polls)
        }
    }

    impl Body for Frames {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            Poll::Ready(self.frames.pop_front().map(|f| f.map(Frame::data)))
        }

        fn size_hint(&self) -> SizeHint {
            let mut hint = SizeHint::new();
            hint.set_lower(self.declared);
            hint
        }
    }

    fn limits(max_body_bytes: u64) -> Limits {
        let mut limits = Limits::default();
        limits.max_body_bytes = max_body_bytes;
        limits
    }

    #[test]
    fn request_bodies_are_read_whole_up_to_the_listeners_limit() {
        let (body, _) = Frames::new(&["1234", "5678"], 0);
        let collected = block_on(collect_body(body, &limits(8))).unwrap();
        assert_eq!(collected, b"12345678");

        // One byte over, as it arrives: the listener's 413.
        let (body, _) = Frames::new(&["1234", "56789"], 0);
        let Err(CollectError::Limit(error)) = block_on(collect_body(body, &limits(8))) else {
            panic!("a body over the limit was taken");
        };
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);

        // Declared over the limit: refused before any of it is read.
        let (body, polls) = Frames::new(&["123456789"], 9);
        let Err(CollectError::Limit(error)) = block_on(collect_body(body, &limits(8))) else {
            panic!("a body declared over the limit was taken");
        };
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(polls.load(Ordering::SeqCst), 0);

        let (mut body, _) = Frames::new(&["12"], 0);
        body.frames.push_back(Err(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        let outcome = block_on(collect_body(body, &limits(8)));
        assert!(matches!(outcome, Err(CollectError::Body(_))), "{outcome:?}");
    }

    #[test]
    fn oversized_and_failing_bodies_are_answered_413_and_400() {
        let runtime = Held::default();
        let options = HttpServeOptions {
            limits: limits(8),
            ..HttpServeOptions::default()
        };
        let server = Server::builder("s", "1").build();
        let (mut service, _handle) = McpService::new(&runtime, server, options);
        let post = || http::Request::post("/mcp").header(HOST, "localhost");
        // Refused at once, without the owner (which does not run here).
        let mut answer = |request| {
            let response =
                block_on(poll_once(service.call(request))).expect("answered without the owner");
            response.map(|response: http::Response<McpBody>| response.status())
        };
        let large = post().body(Frames::new(&["123456789"], 0).0).unwrap();
        assert_eq!(answer(large), Ok(StatusCode::PAYLOAD_TOO_LARGE));
        let (mut failing, _) = Frames::new(&[], 0);
        failing.frames.push_back(Err(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(
            answer(post().body(failing).unwrap()),
            Ok(StatusCode::BAD_REQUEST)
        );
        let put = http::Request::put("/mcp")
            .body(Frames::new(&[], 0).0)
            .unwrap();
        assert_eq!(answer(put), Ok(StatusCode::METHOD_NOT_ALLOWED));
    }

    /// A server whose `hang` tool reports progress once, then waits until cancelled (which
    /// sets `cancelled`).
    fn hanging(cancelled: Arc<AtomicBool>) -> Server {
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let tool: Tool =
            serde_json::from_value(json!({"name": "hang", "inputSchema": {"type": "object"}}))
                .unwrap();
        Server::builder("s", "1")
            .tool(tool, move |ctx, _args| {
                let flag = Flag(Arc::clone(&cancelled));
                async move {
                    let _flag = flag;
                    ctx.progress(1.0, None, None);
                    std::future::pending::<()>().await;
                    Ok::<_, HandlerError>(CallToolResult::text("never"))
                }
            })
            .build()
    }

    /// A modern `tools/call` of `hang` to `uri`, asking for progress; no `Host` header.
    fn call_hang(uri: &str) -> http::Request<String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "hang", "arguments": {}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {},
            "progressToken": "p"
        }}});
        http::Request::post(uri)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "hang")
            .body(body.to_string())
            .unwrap()
    }

    async fn next_frame(body: &mut McpBody) -> Option<Result<Bytes, StreamCut>> {
        let frame = poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
        Some(frame.map(|frame| frame.into_data().unwrap_or_default()))
    }

    /// Opens the `hang` call's event stream and reads up to its progress event.
    async fn hang_stream(service: &mut McpService) -> McpBody {
        // An HTTP/2 request: the authority stands for the missing Host header.
        let response = service
            .call(call_hang("http://localhost/mcp"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut body = response.into_body();
        assert!(!body.is_end_stream());
        loop {
            let event = next_frame(&mut body).await.unwrap().unwrap();
            if String::from_utf8_lossy(&event).contains("notifications/progress") {
                return body;
            }
        }
    }

    /// The `hanging` server behind a service on a held runtime, stopping without a grace;
    /// the flag tells whether its call was cancelled.
    fn hanging_service() -> (Held, Arc<AtomicBool>, McpService, McpServiceHandle) {
        let runtime = Held::default();
        let cancelled = Arc::new(AtomicBool::new(false));
        let options = HttpServeOptions {
            stop_grace: Duration::ZERO,
            ..HttpServeOptions::default()
        };
        let (service, handle) = McpService::new(&runtime, hanging(Arc::clone(&cancelled)), options);
        (runtime, cancelled, service, handle)
    }

    #[test]
    fn a_dropped_event_stream_closes_its_exchange_and_cancels_the_call() {
        let (runtime, cancelled, mut service, handle) = hanging_service();
        let test = async move {
            let body = hang_stream(&mut service).await;
            // The client went away: the framework drops the body.
            drop(body);
            for _ in 0..1000 {
                if cancelled.load(Ordering::SeqCst) {
                    break;
                }
                yield_now().await;
            }
            assert!(
                cancelled.load(Ordering::SeqCst),
                "the call was not cancelled"
            );
            let report = handle.shutdown().await;
            assert_eq!(report.cut_exchanges, 0, "{report:?}");
            // The owner has ended: later requests are refused.
            let late = service.call(call_hang("/mcp")).await.unwrap();
            assert_eq!(late.status(), StatusCode::SERVICE_UNAVAILABLE);
        };
        block_on(zip(runtime.owner(), test));
    }

    #[test]
    fn a_stream_open_when_the_grace_runs_out_is_cut_not_ended() {
        let (runtime, cancelled, mut service, handle) = hanging_service();
        let test = async move {
            let mut body = hang_stream(&mut service).await;
            let report = handle.shutdown().await;
            assert_eq!(report.cut_exchanges, 1, "{report:?}");
            assert!(matches!(next_frame(&mut body).await, Some(Err(StreamCut))));
            assert!(body.is_end_stream());
            assert!(next_frame(&mut body).await.is_none());
            assert!(cancelled.load(Ordering::SeqCst));
        };
        block_on(zip(runtime.owner(), test));
    }

    #[test]
    fn the_owner_ends_when_the_handle_and_every_service_and_body_are_dropped() {
        let (runtime, cancelled, mut service, handle) = hanging_service();
        let mut owner = runtime.owner();
        let body = block_on(or(
            async {
                (&mut owner).await;
                panic!("the owner ended while serving");
            },
            async {
                drop(handle);
                // Without its handle the service still serves.
                let body = hang_stream(&mut service).await;
                drop(service);
                body
            },
        ));
        // The body can still tell the owner about its end: the owner serves on.
        assert!(block_on(poll_once(&mut owner)).is_none());
        drop(body);
        let ended = (0..100).any(|_| block_on(poll_once(&mut owner)).is_some());
        assert!(ended, "the owner outlived every sender");
        // With it went the server and the call it ran.
        assert!(cancelled.load(Ordering::SeqCst));
    }
}
