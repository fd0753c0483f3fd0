//! Continuous traffic from the guest to the responder: busybox ping every
//! 50 ms and the UDP stream at the same rate, both numbered. Transitions
//! (unplug, re-plug, migration...) are bracketed by marks, and the sequence
//! numbers lost between two marks are that transition's loss: echo requests
//! without a reply in ping's output, datagrams the responder never saw.

use crate::guest::Guest;
use crate::responder::{Kind, Rec, Responder, UDP_PORT};
use crate::udp::GUEST_BIN;
use crate::util::{poll, Res};
use crate::{bail, ensure};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

pub const INTERVAL_MS: u64 = 50;
/// Sequence numbers before a transition's first mark that still count for it (replies in flight).
const MARGIN: u32 = 4;

/// The highest sequence numbers the responder has seen of a flow at time `t`.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    pub t: Instant,
    pub icmp: Option<u32>,
    pub udp: Option<u32>,
}

/// Loss and switch time of one transition.
#[derive(Clone, Debug)]
pub struct Sample {
    pub name: String,
    /// None where ping restarts and is not accounted.
    pub icmp: Option<u32>,
    pub udp: u32,
    /// From the action to the first frame of the flow on the new path.
    pub switch_ms: Option<u64>,
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let icmp = self.icmp.map_or("-".into(), |n| n.to_string());
        write!(f, "{}: lost {icmp} icmp + {} udp", self.name, self.udp)?;
        match self.switch_ms {
            Some(ms) => write!(f, ", switched in {ms} ms"),
            None => Ok(()),
        }
    }
}

struct Window {
    name: String,
    from: Mark,
    to: Mark,
    switch: Option<Duration>,
}

/// One flow: ping and the UDP stream from the guest to `dst`.
pub struct Flow {
    tag: &'static str,
    pub dst: [u8; 4],
    /// ping runs in a loop that restarts it (it exits when the route goes away); no ICMP accounting.
    resilient: bool,
    since: Instant,
    windows: Vec<Window>,
}

/// What a flow lost, over all and per transition.
#[derive(Debug, Default)]
pub struct Totals {
    pub icmp_sent: u32,
    pub icmp_replied: u32,
    pub udp_sent: u32,
    /// Datagrams the guest's sendto() refused, and the last error.
    pub udp_errors: u32,
    pub udp_error: Option<String>,
    pub udp_seen: u32,
    /// Lost outside every transition.
    pub steady_icmp: u32,
    pub steady_udp: u32,
    /// Their sequence numbers.
    pub steady_lost: Vec<(Kind, u32)>,
    pub samples: Vec<Sample>,
    /// Every lost sequence number: echo requests without a reply, datagrams never seen.
    pub lost: Vec<(Kind, u32)>,
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "icmp {}/{} replied, udp {}/{} arrived ({} send errors); lost outside transitions: {} icmp, {} udp",
            self.icmp_replied,
            self.icmp_sent,
            self.udp_seen,
            self.udp_sent,
            self.udp_errors,
            self.steady_icmp,
            self.steady_udp
        )
    }
}

impl Flow {
    /// Starts ping and the UDP stream to `dst` in the background; `tag` names their files in /tmp.
    pub fn start(g: &mut Guest, tag: &'static str, dst: [u8; 4], resilient: bool) -> Res<Flow> {
        let ip = Ipv4Addr::from(dst);
        let ping = format!("ping -i 0.{:02} {ip}", INTERVAL_MS / 10);
        let ping = if resilient {
            format!(
                "(while [ ! -e /tmp/{tag}.stop ]; do {ping} -w 600 >/dev/null 2>&1 & echo $! >/tmp/{tag}.pid; \
                 wait $!; sleep 0.2; done) &"
            )
        } else {
            format!("{ping} >/tmp/{tag}.ping 2>&1 & echo $! >/tmp/{tag}.pid;")
        };
        let since = Instant::now();
        g.ok(&format!(
            "rm -f /tmp/{tag}.*; {ping} \
             {GUEST_BIN} --guest-udp {ip}:{UDP_PORT} {INTERVAL_MS} /tmp/{tag}.stop >/tmp/{tag}.udp 2>&1 &"
        ))?;
        Ok(Flow { tag, dst, resilient, since, windows: Vec::new() })
    }

    fn recs(&self, resp: &Responder) -> Vec<Rec> {
        resp.recs().into_iter().filter(|r| r.dst == self.dst && r.t >= self.since).collect()
    }

    pub fn mark(&self, resp: &Responder) -> Mark {
        let t = Instant::now();
        let recs = self.recs(resp);
        let max = |k| recs.iter().filter(|r| r.kind == k).map(|r| r.seq).max();
        Mark { t, icmp: max(Kind::Icmp), udp: max(Kind::Udp) }
    }

    /// Frames of this flow per backend since `since`.
    pub fn paths(&self, resp: &Responder, since: Instant) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for r in self.recs(resp).into_iter().filter(|r| r.t >= since) {
            *m.entry(r.path).or_default() += 1;
        }
        m
    }

    /// Records a transition that started at `from` and has settled; `to_path` is the
    /// backend the flow moved to (waited for, up to `timeout`), if it moved. The
    /// switch is the first frame of the last run through `to_path` after `after`.
    pub fn transition(
        &mut self,
        resp: &Responder,
        name: &str,
        from: Mark,
        to_path: Option<&str>,
        after: Instant,
        timeout: Duration,
    ) -> Res<Sample> {
        let switch = match to_path {
            Some(p) => match resp.wait_switch(p, self.dst, after, timeout) {
                Some(t) => Some(t - from.t),
                None => bail!("{name}: no traffic through {p} after {}s", timeout.as_secs()),
            },
            None => None,
        };
        std::thread::sleep(Duration::from_millis(3 * INTERVAL_MS));
        let to = self.mark(resp);
        self.windows.push(Window { name: name.into(), from, to, switch });
        Ok(Sample { name: name.into(), icmp: None, udp: 0, switch_ms: switch.map(|d| d.as_millis() as u64) })
    }

    /// Moves the end of the last transition to now: what is lost until then counts for it.
    pub fn extend(&mut self, resp: &Responder) {
        let now = self.mark(resp);
        if let Some(w) = self.windows.last_mut() {
            w.to = now;
        }
    }

    /// Stops the flow and accounts every sequence number up to the last one the responder saw.
    pub fn stop(self, g: &mut Guest, resp: &Responder) -> Res<Totals> {
        let end = self.mark(resp);
        std::thread::sleep(Duration::from_millis(500));
        let tag = self.tag;
        g.ok(&format!("touch /tmp/{tag}.stop; kill -INT $(cat /tmp/{tag}.pid)"))?;
        let udp = poll(Duration::from_secs(10), Duration::from_millis(200), || {
            let out = g.run(&format!("cat /tmp/{tag}.udp"))?.1;
            Ok(out.lines().find(|l| l.starts_with("sent ")).map(String::from))
        })?;
        let Some(udp) = udp else { bail!("the UDP sender did not stop") };
        let word = |i: usize| udp.split_whitespace().nth(i).and_then(|n| n.parse().ok()).unwrap_or(0);
        let (udp_sent, udp_errors) = (word(1), word(3));
        let recs = self.recs(resp);
        let seen = |k| recs.iter().filter(|r| r.kind == k).map(|r| r.seq).collect::<BTreeSet<u32>>();
        let udp_seen = seen(Kind::Udp);
        let udp_error = udp.split_once(" last ").map(|(_, e)| e.to_string());
        let mut t =
            Totals { udp_sent, udp_errors, udp_error, udp_seen: udp_seen.len() as u32, ..Totals::default() };
        let lost_udp: Vec<u32> = (0..=end.udp.unwrap_or(0)).filter(|s| !udp_seen.contains(s)).collect();
        let lost_icmp: Vec<u32> = if self.resilient {
            Vec::new()
        } else {
            let out = g.ok(&format!("cat /tmp/{tag}.ping"))?;
            let replied: BTreeSet<u32> = out
                .lines()
                .filter(|l| l.contains("bytes from"))
                .filter_map(|l| l.split("seq=").nth(1)?.split_whitespace().next()?.parse().ok())
                .collect();
            let summary = out.lines().find(|l| l.contains("packets transmitted")).unwrap_or("");
            t.icmp_sent = summary.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
            t.icmp_replied = replied.len() as u32;
            ensure!(t.icmp_sent > 0, "ping sent nothing: {}", out.lines().last().unwrap_or(""));
            (0..=end.icmp.unwrap_or(0)).filter(|s| !replied.contains(s)).collect()
        };
        ensure!(t.udp_sent > 0 && end.udp.is_some(), "no UDP datagram reached the responder ({udp})");
        let within = |s: u32, a: Option<u32>, b: Option<u32>| {
            a.map_or(0, |a| a.saturating_sub(MARGIN)) < s + 1 && b.is_some_and(|b| s <= b)
        };
        let mut counted = (BTreeSet::new(), BTreeSet::new());
        for w in &self.windows {
            let icmp: Vec<u32> =
                lost_icmp.iter().copied().filter(|&s| within(s, w.from.icmp, w.to.icmp)).collect();
            let udp: Vec<u32> =
                lost_udp.iter().copied().filter(|&s| within(s, w.from.udp, w.to.udp)).collect();
            t.samples.push(Sample {
                name: w.name.clone(),
                icmp: (!self.resilient).then_some(icmp.len() as u32),
                udp: udp.len() as u32,
                switch_ms: w.switch.map(|d| d.as_millis() as u64),
            });
            counted.0.extend(icmp);
            counted.1.extend(udp);
        }
        t.lost = lost_icmp
            .iter()
            .map(|&s| (Kind::Icmp, s))
            .chain(lost_udp.iter().map(|&s| (Kind::Udp, s)))
            .collect();
        let icmp = lost_icmp.iter().filter(|s| !counted.0.contains(*s)).map(|&s| (Kind::Icmp, s));
        t.steady_lost = icmp
            .chain(lost_udp.iter().filter(|s| !counted.1.contains(*s)).map(|&s| (Kind::Udp, s)))
            .collect();
        t.steady_icmp = t.steady_lost.iter().filter(|l| l.0 == Kind::Icmp).count() as u32;
        t.steady_udp = t.steady_lost.len() as u32 - t.steady_icmp;
        Ok(t)
    }
}
