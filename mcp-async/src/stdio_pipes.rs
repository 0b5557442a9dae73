//! This process's stdin and stdout as pipes an adapter can read and write through its I/O
//! reactor.
//!
//! A client that spawns an MCP server connects its stdin and stdout to pipes. Runtimes read the
//! standard streams on a blocking thread, which costs two thread hand-offs per message; a pipe
//! can instead be made non-blocking and waited on like a socket. Only pipes are taken: making a
//! terminal or a file non-blocking would change it for every process sharing it (the shell
//! included), so the adapters keep the blocking path for anything else.

use std::fs::File;

/// A second handle on stdin when it is a pipe (`None` otherwise, or on platforms without
/// pipes), for an adapter to make non-blocking.
#[must_use]
pub fn stdin_pipe() -> Option<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        pipe_of(std::io::stdin().as_fd())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// A second handle on stdout when it is a pipe (`None` otherwise), for an adapter to make
/// non-blocking. Nothing else in the process may then write to stdout, which the MCP stdio
/// transport requires anyway.
#[must_use]
pub fn stdout_pipe() -> Option<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        pipe_of(std::io::stdout().as_fd())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(unix)]
fn pipe_of(fd: std::os::fd::BorrowedFd<'_>) -> Option<File> {
    use std::os::unix::fs::FileTypeExt;
    let file = File::from(fd.try_clone_to_owned().ok()?);
    let is_pipe = file.metadata().ok()?.file_type().is_fifo();
    is_pipe.then_some(file)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::fd::AsFd;
    use std::process::{Command, Stdio};

    use super::pipe_of;

    /// The ends of a child's pipes are taken; a regular file never is.
    #[test]
    #[allow(clippy::unwrap_used, clippy::expect_used)]
    fn only_pipes_are_taken() {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cat runs on every Unix");
        let to_child = child.stdin.take().unwrap();
        let from_child = child.stdout.take().unwrap();
        assert!(pipe_of(to_child.as_fd()).is_some());
        assert!(pipe_of(from_child.as_fd()).is_some());
        drop(to_child);
        let _ = child.wait();

        let file = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
        assert!(pipe_of(file.as_fd()).is_none());
    }
}
