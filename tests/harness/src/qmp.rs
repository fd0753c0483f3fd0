//! Minimal QMP client: commands, and events collected while waiting.

use crate::util::{connect, Lines, Res};
use crate::{bail, ensure};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

pub struct Qmp {
    lines: Lines,
    pub events: Vec<Value>,
}

impl Qmp {
    pub fn connect(sock: &Path, timeout: Duration) -> Res<Qmp> {
        let mut q = Qmp { lines: Lines::new(connect(sock, timeout)?), events: Vec::new() };
        // An event raised while the monitor opens (a migration destination's
        // `setup`) can reach the socket before the greeting: keep it.
        let deadline = Instant::now() + timeout;
        loop {
            let v = q.read(deadline)?;
            if v.get("QMP").is_some() {
                break;
            }
            ensure!(v.get("event").is_some(), "unexpected QMP greeting: {v}");
            q.events.push(v);
        }
        q.execute("qmp_capabilities", json!({}))?;
        Ok(q)
    }

    fn read(&mut self, deadline: Instant) -> Res<Value> {
        match self.lines.next(deadline)? {
            Some(line) => Ok(serde_json::from_str(&line)?),
            None => bail!("QMP: no answer"),
        }
    }

    pub fn execute(&mut self, cmd: &str, args: Value) -> Res<Value> {
        let msg = json!({ "execute": cmd, "arguments": args });
        writeln!(self.lines.stream, "{msg}")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.read(deadline)?;
            if v.get("event").is_some() {
                self.events.push(v);
            } else if let Some(r) = v.get("return") {
                return Ok(r.clone());
            } else if let Some(e) = v.get("error") {
                bail!("QMP {cmd}: {}", e["desc"].as_str().unwrap_or("error"));
            }
        }
    }

    /// Waits for an event called `name` whose data satisfies `pred`, and removes it.
    pub fn wait_event(&mut self, name: &str, pred: impl Fn(&Value) -> bool, timeout: Duration) -> Res<Value> {
        let deadline = Instant::now() + timeout;
        let hit = |v: &Value| v["event"] == name && pred(&v["data"]);
        loop {
            if let Some(i) = self.events.iter().position(hit) {
                return Ok(self.events.remove(i));
            }
            match self.lines.next(deadline)? {
                Some(line) => self.events.push(serde_json::from_str(&line)?),
                None => bail!("no {name} event after {}s", timeout.as_secs()),
            }
        }
    }

    pub fn device_add(&mut self, args: &Value) -> Res<()> {
        self.execute("device_add", args.clone()).map(drop)
    }

    /// Requests the unplug and waits until QEMU reports the device gone.
    pub fn device_del(&mut self, id: &str, timeout: Duration) -> Res<()> {
        let is_dev = |d: &Value| d["device"] == id;
        self.events.retain(|v| !(v["event"] == "DEVICE_DELETED" && is_dev(&v["data"])));
        self.execute("device_del", json!({ "id": id }))?;
        self.wait_event("DEVICE_DELETED", is_dev, timeout).map(drop)
    }

    pub fn set_link(&mut self, name: &str, up: bool) -> Res<()> {
        self.execute("set_link", json!({ "name": name, "up": up })).map(drop)
    }
}
