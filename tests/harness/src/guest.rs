//! Host side of the guest agent that /init runs on the guest's ttyS1.
//!
//! Protocol: the host writes `<seq> <command>\n`; the guest runs the command
//! with `sh -c`, copies its output (stdout and stderr), then an empty line and
//! `@@END <seq> <rc>`.

use crate::util::{connect, Lines, Res};
use crate::{bail, ensure};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Guest {
    lines: Lines,
    seq: u64,
}

impl Guest {
    pub fn connect(sock: &Path, timeout: Duration) -> Res<Guest> {
        Ok(Guest { lines: Lines::new(connect(sock, timeout)?), seq: 0 })
    }

    /// Waits for the banner that /init prints once the agent loop runs.
    pub fn wait_ready(&mut self, timeout: Duration) -> Res<()> {
        let deadline = Instant::now() + timeout;
        while let Some(line) = self.lines.next(deadline)? {
            if line == "@@READY" {
                return Ok(());
            }
        }
        bail!("guest agent not ready after {}s", timeout.as_secs())
    }

    pub fn run_timeout(&mut self, cmd: &str, timeout: Duration) -> Res<(i32, String)> {
        ensure!(!cmd.contains('\n'), "guest command must be one line: {cmd:?}");
        self.seq += 1;
        let marker = format!("@@END {} ", self.seq);
        writeln!(self.lines.stream, "{} {cmd}", self.seq)?;
        let deadline = Instant::now() + timeout;
        let mut out: Vec<String> = Vec::new();
        let mut seen = Vec::new();
        loop {
            let Some(line) = self.lines.next(deadline)? else {
                bail!("guest command timed out after {}s: {cmd} (received {seen:?})", timeout.as_secs());
            };
            seen.push(line.clone());
            if let Some(rc) = line.strip_prefix(&marker) {
                if out.last().is_some_and(|l| l.is_empty()) {
                    out.pop();
                }
                let rc = rc.trim().parse().unwrap_or(-1);
                return Ok((rc, out.join("\n")));
            }
            if line.starts_with("@@END ") {
                out.clear();
            } else {
                out.push(line);
            }
        }
    }

    pub fn run(&mut self, cmd: &str) -> Res<(i32, String)> {
        self.run_timeout(cmd, DEFAULT_TIMEOUT)
    }

    /// Runs `cmd` and fails unless it exits 0.
    pub fn ok(&mut self, cmd: &str) -> Res<String> {
        let (rc, out) = self.run(cmd)?;
        ensure!(rc == 0, "`{cmd}` exited {rc}: {}", out.trim());
        Ok(out)
    }

    pub fn read(&mut self, path: &str) -> Res<String> {
        Ok(self.ok(&format!("cat {path}"))?.trim().to_string())
    }
}
