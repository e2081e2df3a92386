//! The gateway's own standard input and output as asynchronous streams, read and written on the
//! runtime's thread when the platform allows it.
//!
//! `tokio::io::stdin()`/`stdout()` do each read and write on a blocking-pool thread: every
//! message then costs two thread hand-offs (wake the pool thread, wake the runtime back), which
//! on a busy machine is most of the gateway's added latency. When standard input or output is
//! a pipe or a Unix socket (what MCP clients give a stdio server: `pipe(2)`, or a socketpair
//! from libuv), the gateway reads and writes a duplicate of the descriptor in non-blocking
//! mode through the runtime's poller instead. Anything else (a terminal, a file, `/dev/null`,
//! another platform) keeps tokio's blocking streams.
//!
//! The trade-off: non-blocking mode is a property of the open file description, which the
//! duplicate shares with whoever else holds it (the client's end is another description, so
//! usually nobody). A terminal is never switched, since the shell shares it; a pipe or socket
//! is put back in blocking mode when its stream is dropped, so a process that reads the same
//! description after the gateway finds it as it was.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub(crate) type Reader = Box<dyn AsyncRead + Unpin + Send>;
pub(crate) type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// The gateway's standard input.
pub(crate) fn stdin() -> Reader {
    #[cfg(unix)]
    if let Some(reader) = unix::reader() {
        return reader;
    }
    Box::new(tokio::io::stdin())
}

/// The gateway's standard output.
pub(crate) fn stdout() -> Writer {
    #[cfg(unix)]
    if let Some(writer) = unix::writer() {
        return writer;
    }
    Box::new(tokio::io::stdout())
}

/// What a non-blocking stream does when it is dropped: put its descriptor back in blocking
/// mode (and close the duplicate).
pub(crate) trait IntoBlocking {
    fn into_blocking(self);
}

/// A stream that is put back in blocking mode when dropped.
pub(crate) struct Restored<T: IntoBlocking> {
    inner: Option<T>,
}

impl<T: IntoBlocking> Restored<T> {
    pub(crate) fn new(inner: T) -> Self {
        Restored { inner: Some(inner) }
    }
}

impl<T: IntoBlocking> Drop for Restored<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.into_blocking();
        }
    }
}

impl<T: IntoBlocking + AsyncRead + Unpin> AsyncRead for Restored<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_read(cx, buf),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl<T: IntoBlocking + AsyncWrite + Unpin> AsyncWrite for Restored<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_write(cx, buf),
            None => Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

#[cfg(unix)]
mod unix {
    use std::fs::File;
    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
    use std::os::unix::fs::FileTypeExt;

    use tokio::net::UnixStream;
    use tokio::net::unix::pipe;

    use super::{IntoBlocking, Reader, Restored, Writer};

    impl IntoBlocking for pipe::Receiver {
        fn into_blocking(self) {
            let _ = self.into_blocking_fd();
        }
    }

    impl IntoBlocking for pipe::Sender {
        fn into_blocking(self) {
            let _ = self.into_blocking_fd();
        }
    }

    impl IntoBlocking for UnixStream {
        fn into_blocking(self) {
            if let Ok(stream) = self.into_std() {
                let _ = stream.set_nonblocking(false);
            }
        }
    }

    enum Kind {
        Fifo(OwnedFd),
        Socket(std::os::unix::net::UnixStream),
    }

    /// A duplicate of `fd` when it is a pipe or a Unix socket (see the module docs); `None`
    /// needs no runtime, so it is decided before one is entered.
    fn pollable(fd: BorrowedFd<'_>) -> Option<Kind> {
        let file = File::from(fd.try_clone_to_owned().ok()?);
        let kind = file.metadata().ok()?.file_type();
        if kind.is_fifo() {
            return Some(Kind::Fifo(OwnedFd::from(file)));
        }
        if kind.is_socket() {
            let stream = std::os::unix::net::UnixStream::from(OwnedFd::from(file));
            // A TCP socket (inetd) has no Unix address: left to the blocking path.
            stream.local_addr().ok()?;
            stream.set_nonblocking(true).ok()?;
            return Some(Kind::Socket(stream));
        }
        None
    }

    pub(super) fn reader() -> Option<Reader> {
        let stdin = std::io::stdin();
        let fd = stdin.as_fd();
        let reader: Option<Reader> = match pollable(fd)? {
            Kind::Fifo(dup) => pipe::Receiver::from_owned_fd(dup)
                .ok()
                .map(|r| Box::new(Restored::new(r)) as Reader),
            Kind::Socket(s) => UnixStream::from_std(s)
                .ok()
                .map(|s| Box::new(Restored::new(s)) as Reader),
        };
        if reader.is_none() {
            // Not registered with the poller: the blocking path needs the descriptor as it was.
            set_blocking(fd);
        }
        reader
    }

    pub(super) fn writer() -> Option<Writer> {
        let stdout = std::io::stdout();
        let fd = stdout.as_fd();
        let writer: Option<Writer> = match pollable(fd)? {
            Kind::Fifo(dup) => pipe::Sender::from_owned_fd(dup)
                .ok()
                .map(|w| Box::new(Restored::new(w)) as Writer),
            Kind::Socket(s) => UnixStream::from_std(s)
                .ok()
                .map(|s| Box::new(Restored::new(s)) as Writer),
        };
        if writer.is_none() {
            set_blocking(fd);
        }
        writer
    }

    /// Clears `O_NONBLOCK` on `fd`'s open file description.
    #[allow(unsafe_code)]
    fn set_blocking(fd: BorrowedFd<'_>) {
        use std::os::fd::AsRawFd;
        let raw = fd.as_raw_fd();
        // SAFETY: `fcntl` on a descriptor the borrow keeps open; only the status flags are read
        // and written back without `O_NONBLOCK`.
        unsafe {
            let flags = libc::fcntl(raw, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(raw, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
}
