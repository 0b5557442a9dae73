//! Serving a [`Server`] over a line-framed byte stream (stdio, a socket, an in-memory pipe):
//! one task owns the connection's [`ServerEndpoint`], its I/O, its timer and the running
//! handlers, which it polls itself (no task per request, no lock around the engine).

use std::future::poll_fn;
use std::io;
use std::task::Poll;
use std::time::Instant;

use futures_lite::io::{AsyncRead, AsyncWrite};
use mcp_proto::engine::{CloseReport, ServerEndpoint, Transmit};

use crate::app::{App, Produced};
use crate::lines::{IoWake, LineIo, ReadEnd};
use crate::runtime::Runtime;
use crate::server::Server;
use crate::timer::Timer;

/// How a served connection ended.
#[derive(Debug)]
pub struct ServeReport {
    /// The engine's account: why it closed, what was abandoned.
    pub close: CloseReport,
    /// The I/O error that ended it, if one did.
    pub io_error: Option<io::Error>,
}

enum Wake {
    Io(IoWake),
    App(Produced<()>),
    Stop,
    Timer,
}

/// Serves `server` on one connection until the peer goes away (end of input), `stop`
/// completes (a graceful close: in-flight requests get the engine's grace period), or the
/// I/O fails. Returns the engine's close report.
pub async fn serve_lines<R, In, Out>(
    runtime: R,
    server: Server,
    input: In,
    output: Out,
    stop: impl Future<Output = ()> + Send,
) -> ServeReport
where
    R: Runtime,
    In: AsyncRead + Unpin,
    Out: AsyncWrite + Unpin,
{
    let mut endpoint = ServerEndpoint::new(server.config());
    let mut app = App::new(server);
    let mut io = LineIo::new(input, output);
    let mut timer = Timer::new(runtime);
    let mut stop = Box::pin(stop);
    let mut stopping = false;
    loop {
        while let Some(transmit) = endpoint.poll_transmit() {
            if let Transmit::Send { message, .. } = transmit {
                io.send(&message);
            }
        }
        let mut closed = None;
        while let Some(event) = endpoint.poll_event() {
            if let Some(report) = app.on_event(&(), event) {
                closed = Some(report);
            }
        }
        if let Some(close) = closed {
            // Best effort: what the engine said last (errors, cancellations) goes out.
            poll_fn(|cx| io.poll_close(cx)).await;
            let io_error = match io.read_end() {
                Some(ReadEnd::Failed(e)) => Some(io::Error::new(e.kind(), e.to_string())),
                _ => io
                    .write_error()
                    .map(|e| io::Error::new(e.kind(), e.to_string())),
            };
            return ServeReport { close, io_error };
        }
        timer.set(endpoint.poll_timeout());
        let wake = poll_fn(|cx| {
            if let Poll::Ready(wake) = io.poll(cx) {
                return Poll::Ready(Wake::Io(wake));
            }
            if !stopping && stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Stop);
            }
            // While the peer is not reading, no new answers are produced.
            if let Poll::Ready(produced) = app.poll(cx, !io.is_congested()) {
                return Poll::Ready(Wake::App(produced));
            }
            if timer.poll(cx).is_ready() {
                return Poll::Ready(Wake::Timer);
            }
            Poll::Pending
        })
        .await;
        let now = Instant::now();
        match wake {
            Wake::Io(wake) => io.deliver(now, wake, &mut endpoint),
            Wake::App(produced) => app.apply(now, produced, Some(&mut endpoint)),
            Wake::Stop => {
                stopping = true;
                endpoint.close(now);
            }
            Wake::Timer => endpoint.handle_timeout(now),
        }
    }
}
