//! Client and server in one process, joined by in-memory pipes: no sockets, same protocol
//! bytes (newline-delimited JSON-RPC), same drivers as every other transport.

use std::future::pending;

use crate::client::{ClientOptions, Connecting, ShutdownReport, client_connection};
use crate::runtime::Runtime;
use crate::serve::serve_lines;
use crate::server::Server;

/// Bytes each direction's pipe holds before the writer waits for the reader.
const PIPE_CAPACITY: usize = 256 * 1024;

/// Serves `server` to a new client in this process. Two tasks are spawned on `runtime` (the
/// client's connection and the server's); both end when the client shuts down or is dropped.
pub fn connect_in_memory<R: Runtime>(
    runtime: &R,
    server: Server,
    options: ClientOptions,
) -> Connecting {
    let (server_input, client_output) = crate::pipe::pipe(PIPE_CAPACITY);
    let (client_input, server_output) = crate::pipe::pipe(PIPE_CAPACITY);
    let (connecting, task, report) = client_connection(options);
    let server_runtime = runtime.clone();
    runtime.spawn(Box::pin(async move {
        // The server ends when the client's side of the pipe closes.
        let served = serve_lines(
            server_runtime,
            server,
            server_input,
            server_output,
            pending(),
        )
        .await;
        tracing::debug!(close = ?served.close.reason, "in-memory server ended");
    }));
    let client_runtime = runtime.clone();
    runtime.spawn(Box::pin(async move {
        let close = task.run(client_runtime, client_input, client_output).await;
        report.send(ShutdownReport {
            close: Some(close),
            child: None,
            transport_error: None,
        });
    }));
    connecting
}
