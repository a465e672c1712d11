//! The byte pipe under a TLS connection: a TCP or Unix-domain socket owned
//! by tokio. Readiness-based (`readable`/`try_read`), so the connection task
//! decides how much to read per wake-up and rustls never blocks.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use socket2::{SockRef, Socket};
use tokio::io::unix::AsyncFd;
use tokio::net::{TcpStream, UnixStream};

use crate::pipe::Pipe;

/// A connected socket.
#[derive(Debug)]
pub enum Transport {
    /// TCP.
    Tcp(TcpStream),
    /// Unix-domain stream socket (`listen(path)`, `connect({path})`).
    Unix(UnixStream),
    /// An existing JavaScript stream (STARTTLS).
    Js(Arc<Pipe>),
    /// An established connection's TCP or Unix socket, read on the
    /// JavaScript thread's own event loop (`crate::poll`): registered with
    /// the runtime for write readiness only, so that a message received
    /// wakes no TLS thread.
    Polled(AsyncFd<Socket>),
}

/// A socket registered with no runtime, on its way from the thread that
/// accepted it to the one that will serve it.
#[derive(Debug)]
pub enum Detached {
    /// TCP.
    Tcp(std::net::TcpStream),
    /// Unix-domain stream socket.
    Unix(std::os::unix::net::UnixStream),
}

impl Detached {
    /// Registers the socket with the calling thread's runtime.
    pub fn attach(self) -> io::Result<Transport> {
        match self {
            Self::Tcp(s) => TcpStream::from_std(s).map(Transport::Tcp),
            Self::Unix(s) => UnixStream::from_std(s).map(Transport::Unix),
        }
    }
}

/// Addresses of a connected socket, in Node's terms.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// `localAddress`.
    pub local_address: Option<String>,
    /// `localPort`.
    pub local_port: Option<u16>,
    /// `remoteAddress`.
    pub remote_address: Option<String>,
    /// `remotePort`.
    pub remote_port: Option<u16>,
    /// `remoteFamily` (`IPv4` / `IPv6`).
    pub remote_family: Option<String>,
}

fn family(addr: &SocketAddr) -> &'static str {
    if addr.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// Node prints IPv4-mapped IPv6 peers as `::ffff:a.b.c.d`, which is what
/// `SocketAddr`'s `Display` gives too, so addresses are used as they are.
fn ip_string(addr: &SocketAddr) -> String {
    addr.ip().to_string()
}

impl Transport {
    /// Unregisters the socket from its runtime, to move it to another
    /// (it stays non-blocking). A JS-fed transport cannot be moved.
    pub fn detach(self) -> io::Result<Detached> {
        match self {
            Self::Tcp(s) => s.into_std().map(Detached::Tcp),
            Self::Unix(s) => s.into_std().map(Detached::Unix),
            Self::Js(_) | Self::Polled(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "transport cannot move",
            )),
        }
    }

    /// The same socket, registered for write readiness only, and its
    /// descriptor; any other transport comes back as it was. Within the
    /// runtime that will serve it. Fails only when the runtime cannot take
    /// the socket (shutting down, out of memory): the socket is then lost.
    pub fn into_polled(self) -> io::Result<(Self, Option<std::os::fd::RawFd>)> {
        use std::os::fd::AsRawFd;
        let (socket, tcp) = match self {
            Self::Tcp(s) => (Socket::from(s.into_std()?), true),
            Self::Unix(s) => (Socket::from(s.into_std()?), false),
            other => return Ok((other, None)),
        };
        let fd = socket.as_raw_fd();
        match crate::poll::register_writable(socket) {
            Ok(polled) => Ok((Self::Polled(polled), Some(fd))),
            // Not registered: back to a tokio stream as it was.
            Err(socket) => {
                if tcp {
                    TcpStream::from_std(socket.into()).map(|s| (Self::Tcp(s), None))
                } else {
                    UnixStream::from_std(socket.into()).map(|s| (Self::Unix(s), None))
                }
            }
        }
    }

    /// A polled transport's socket, unregistered, for the JS thread to
    /// close once its poll has let go of the descriptor.
    pub fn into_polled_fd(self) -> Option<std::os::fd::OwnedFd> {
        match self {
            Self::Polled(fd) => Some(fd.into_inner().into()),
            _ => None,
        }
    }

    /// Whether the JS thread reads this transport.
    pub fn is_polled(&self) -> bool {
        matches!(self, Self::Polled(_))
    }

    /// Waits until a read may make progress.
    pub async fn readable(&self) -> io::Result<()> {
        match self {
            Self::Tcp(s) => s.readable().await,
            Self::Unix(s) => s.readable().await,
            Self::Js(p) => {
                p.readable().await;
                Ok(())
            }
            // The JS thread reads it.
            Self::Polled(_) => std::future::pending().await,
        }
    }

    /// Waits until a write may make progress.
    pub async fn writable(&self) -> io::Result<()> {
        match self {
            Self::Tcp(s) => s.writable().await,
            Self::Unix(s) => s.writable().await,
            Self::Js(p) => {
                p.writable().await;
                Ok(())
            }
            Self::Polled(fd) => loop {
                let mut guard = fd.writable().await?;
                if crate::poll::writable_now(fd.get_ref()) {
                    return Ok(());
                }
                // Cleared only if no newer readiness came meanwhile.
                guard.clear_ready();
            },
        }
    }

    /// What identifies this connection to [`crate::trace`]: the socket's
    /// descriptor (kept when the connection moves), or the wrapped
    /// stream's pipe.
    pub fn trace_key(&self) -> usize {
        use std::os::fd::AsRawFd;
        let fd = match self {
            Self::Tcp(s) => s.as_raw_fd(),
            Self::Unix(s) => s.as_raw_fd(),
            Self::Polled(fd) => fd.as_raw_fd(),
            Self::Js(p) => return Arc::as_ptr(p) as usize,
        };
        usize::try_from(fd).unwrap_or(usize::MAX)
    }

    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self {
            Self::Tcp(s) => s.try_read(buf),
            Self::Unix(s) => s.try_read(buf),
            Self::Js(p) => p.try_read(buf),
            Self::Polled(fd) => Read::read(&mut fd.get_ref(), buf),
        }?;
        if crate::trace::active() {
            crate::trace::received(self.trace_key(), &buf[..n]);
        }
        Ok(n)
    }

    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let n = match self {
            Self::Tcp(s) => s.try_write(buf),
            Self::Unix(s) => s.try_write(buf),
            Self::Js(p) => p.try_write(&[io::IoSlice::new(buf)]),
            Self::Polled(fd) => Write::write(&mut fd.get_ref(), buf),
        }?;
        if crate::trace::active() {
            crate::trace::sent(self.trace_key(), &buf[..n]);
        }
        Ok(n)
    }

    fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = match self {
            Self::Tcp(s) => s.try_write_vectored(bufs),
            Self::Unix(s) => s.try_write_vectored(bufs),
            Self::Js(p) => p.try_write(bufs),
            Self::Polled(fd) => Write::write_vectored(&mut fd.get_ref(), bufs),
        }?;
        if crate::trace::active() {
            let key = self.trace_key();
            let mut left = n;
            for buf in bufs {
                if left == 0 {
                    break;
                }
                let part = left.min(buf.len());
                crate::trace::sent(key, &buf[..part]);
                left -= part;
            }
        }
        Ok(n)
    }

    /// Sends FIN: our half of the byte stream is done.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Self::Tcp(s) => SockRef::from(s).shutdown(Shutdown::Write),
            Self::Unix(s) => SockRef::from(s).shutdown(Shutdown::Write),
            Self::Js(p) => {
                p.shutdown_write();
                Ok(())
            }
            Self::Polled(fd) => fd.get_ref().shutdown(Shutdown::Write),
        }
    }

    /// Reads and discards what the peer already sent, so that closing the
    /// socket sends FIN rather than RST (the kernel resets a connection
    /// closed with unread data, and the peer would see `ECONNRESET`).
    pub fn discard_input(&self) {
        let mut scratch = [0u8; 4096];
        for _ in 0..16 {
            match self.try_read(&mut scratch) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }

    /// `setNoDelay`.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        match self {
            Self::Tcp(s) => s.set_nodelay(on),
            // A Unix socket refuses it, as Node's would ignore it.
            Self::Polled(fd) => {
                let _ = fd.get_ref().set_tcp_nodelay(on);
                Ok(())
            }
            Self::Unix(_) | Self::Js(_) => Ok(()),
        }
    }

    /// `setKeepAlive(enable, initialDelay)`.
    pub fn set_keepalive(&self, on: bool, delay_ms: u32) -> io::Result<()> {
        let sock = match self {
            Self::Tcp(s) => SockRef::from(s),
            Self::Polled(fd) => SockRef::from(fd.get_ref()),
            Self::Unix(_) | Self::Js(_) => return Ok(()),
        };
        sock.set_keepalive(on)?;
        if on && delay_ms > 0 {
            let ka = socket2::TcpKeepalive::new()
                .with_time(std::time::Duration::from_millis(u64::from(delay_ms)));
            sock.set_tcp_keepalive(&ka)?;
        }
        Ok(())
    }

    /// The addresses Node exposes on the socket.
    pub fn endpoints(&self) -> Endpoints {
        match self {
            Self::Tcp(s) => {
                let local = s.local_addr().ok();
                let remote = s.peer_addr().ok();
                Endpoints {
                    local_address: local.as_ref().map(ip_string),
                    local_port: local.map(|a| a.port()),
                    remote_address: remote.as_ref().map(ip_string),
                    remote_port: remote.map(|a| a.port()),
                    remote_family: remote.as_ref().map(|a| family(a).to_owned()),
                }
            }
            Self::Polled(fd) => {
                let s = fd.get_ref();
                let local = s.local_addr().ok().and_then(|a| a.as_socket());
                let remote = s.peer_addr().ok().and_then(|a| a.as_socket());
                Endpoints {
                    local_address: local.as_ref().map(ip_string),
                    local_port: local.map(|a| a.port()),
                    remote_address: remote.as_ref().map(ip_string),
                    remote_port: remote.map(|a| a.port()),
                    remote_family: remote.as_ref().map(|a| family(a).to_owned()),
                }
            }
            Self::Unix(_) | Self::Js(_) => Endpoints::default(),
        }
    }
}

/// `std::io` view of a non-blocking transport, for rustls' `read_tls` /
/// `write_tls`: `WouldBlock` means "wait for readiness".
pub struct Io<'a>(pub &'a Transport);

impl Read for Io<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for Io<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.try_write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
