use std::fmt;
use std::io::{ErrorKind, Read};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Error(pub String);

impl<E: std::error::Error> From<E> for Error {
    fn from(e: E) -> Self {
        Error(e.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Res<T> = Result<T, Error>;

#[macro_export]
macro_rules! bail {
    ($($a:tt)*) => { return Err($crate::util::Error(format!($($a)*))) };
}

#[macro_export]
macro_rules! ensure {
    ($c:expr, $($a:tt)*) => { if !($c) { $crate::bail!($($a)*) } };
}

pub trait Context<T> {
    fn ctx(self, what: impl fmt::Display) -> Res<T>;
}

impl<T, E: fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: impl fmt::Display) -> Res<T> {
        self.map_err(|e| Error(format!("{what}: {e}")))
    }
}

static START: OnceLock<Instant> = OnceLock::new();

/// Progress message on stderr, stamped with the time since the harness started.
pub fn progress(msg: impl fmt::Display) {
    let t = START.get_or_init(Instant::now).elapsed().as_secs_f64();
    eprintln!("[{t:7.1}s] {msg}");
}

/// Calls `f` every `every` until it returns `Some`, or gives up after `timeout`.
pub fn poll<T>(timeout: Duration, every: Duration, mut f: impl FnMut() -> Res<Option<T>>) -> Res<Option<T>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f()? {
            return Ok(Some(v));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        sleep(every);
    }
}

/// Connects to a unix socket that the QEMU child creates, retrying until it exists.
pub fn connect(path: &Path, timeout: Duration) -> Res<UnixStream> {
    let r = poll(timeout, Duration::from_millis(50), || Ok(UnixStream::connect(path).ok()))?;
    r.ok_or_else(|| Error(format!("cannot connect to {}", path.display())))
}

/// Line-oriented reader over a unix socket with deadlines.
pub struct Lines {
    pub stream: UnixStream,
    buf: Vec<u8>,
}

impl Lines {
    pub fn new(stream: UnixStream) -> Self {
        Lines { stream, buf: Vec::new() }
    }

    /// The next complete line without its terminator, or `None` at the deadline.
    pub fn next(&mut self, deadline: Instant) -> Res<Option<String>> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                let s = String::from_utf8_lossy(&line[..i]);
                return Ok(Some(s.trim_end_matches('\r').to_string()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.stream.set_read_timeout(Some(deadline - now))?;
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) => bail!("connection closed by QEMU"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}
