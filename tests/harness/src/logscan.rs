//! Scans a guest kernel log for splats, separating known bugs from new ones.

/// Lines that start a splat.
pub const HEADERS: &[&str] = &[
    "WARNING:",
    "BUG:",
    "Oops",
    "possible circular locking",
    "suspicious RCU usage",
    "INFO: trying to register non-static key",
    "KASAN",
    "general protection fault",
    "Kernel panic",
    "unregister_netdevice: waiting for",
    "new suspected memory leaks",
    "blocked for more than",
    "ODEBUG:",
    "leaked reference",
    "refcount_t:",
];

/// Lines that start an expected trace: an injected failure's stack dump.
const EXPECTED: &[&str] = &["FAULT_INJECTION: forcing a failure"];

/// Lines that belong to the splat before them, or are hits on their own.
pub const FOLLOWERS: &[&str] = &["lockdep", "Call Trace:"];

/// Boot banners that contain a trigger word.
const BENIGN: &[&str] = &["RCU lockdep checking is enabled"];

/// A splat that a stack is known to produce.
#[derive(Clone, Copy, Debug)]
pub struct Known {
    pub pattern: &'static str,
    pub what: &'static str,
}

#[derive(Debug, Default)]
pub struct Scan {
    /// One entry per known splat: "<what>: <log line>".
    pub known: Vec<String>,
    /// Offending log lines.
    pub unexpected: Vec<String>,
}

/// How far a follower line may come after its splat's first line and still belong to it.
const WINDOW: usize = 100;

pub fn scan(log: &str, known: &[Known]) -> Scan {
    let mut s = Scan::default();
    let mut last: Option<(usize, bool)> = None;
    let lines: Vec<&str> = log.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let has = |set: &[&str]| set.iter().any(|t| line.contains(t));
        if has(EXPECTED) {
            last = Some((i, true));
            continue;
        }
        let header = has(HEADERS);
        if !header && (!has(FOLLOWERS) || has(BENIGN)) {
            continue;
        }
        let line = line.trim_end().to_string();
        if !header {
            match last.filter(|(at, _)| i - at <= WINDOW) {
                Some((_, true)) => {}
                _ => s.unexpected.push(line),
            }
            continue;
        }
        // A splat's first lines name it (e.g. the file of a suspicious RCU usage).
        let head = lines[i..lines.len().min(i + 4)].join("\n");
        match known.iter().find(|k| head.contains(k.pattern)) {
            Some(k) => {
                s.known.push(format!("{}: {}", k.what, line));
                last = Some((i, true));
            }
            None => {
                s.unexpected.push(line);
                last = Some((i, false));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[Known] =
        &[Known { pattern: "register non-static key", what: "stats_lock not initialised" }];

    #[test]
    fn known_splat_and_its_trace_are_not_failures() {
        let log = "rcu: RCU lockdep checking is enabled.\nINFO: trying to register non-static key.\n\
                   The code is fine but needs lockdep annotation, or maybe\nCPU: 0\nCall Trace:\n <TASK>\n";
        let s = scan(log, KNOWN);
        assert_eq!(s.known.len(), 1);
        assert!(s.unexpected.is_empty());
    }

    #[test]
    fn injected_failure_traces_are_not_failures() {
        let log =
            "FAULT_INJECTION: forcing a failure.\nname failslab, interval 1\nCPU: 1\nCall Trace:\n <TASK>\n";
        assert!(scan(log, KNOWN).unexpected.is_empty());
    }

    #[test]
    fn unknown_splat_is_reported_with_its_trace() {
        let log = "WARNING: CPU: 1 PID: 7 at net/core/dev.c:1 foo\nCall Trace:\n";
        let s = scan(log, KNOWN);
        assert_eq!(s.unexpected.len(), 2);
        let late =
            format!("INFO: trying to register non-static key.\n{}Call Trace:\n", "x\n".repeat(WINDOW + 10));
        assert_eq!(scan(&late, KNOWN).unexpected, vec!["Call Trace:".to_string()]);
    }
}
