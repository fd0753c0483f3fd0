//! Results: console lines, results.md and results.json.

use crate::traffic::Sample;
use crate::util::Res;
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub stack: String,
    pub name: String,
    pub status: Status,
    pub reason: String,
    pub secs: f64,
    pub notes: Vec<String>,
    /// Offending kernel log lines.
    pub log: Vec<String>,
    /// Loss and switch time per transition.
    pub samples: Vec<Sample>,
    /// Behaviour worth comparing between the stacks: what, and what was seen.
    pub observed: Vec<(String, String)>,
    /// Figures of a reliability run: what, value.
    pub rel: Vec<(String, String)>,
    /// The guest stopped answering (a command and the probe after it timed out).
    pub hung: bool,
}

impl Outcome {
    pub fn id(&self) -> String {
        format!("{}/{}", self.stack, self.name)
    }

    pub fn line(&self) -> String {
        match self.reason.is_empty() {
            true => format!("{} {}", self.status.word(), self.id()),
            false => format!("{} {}: {}", self.status.word(), self.id(), self.reason),
        }
    }
}

pub fn count(all: &[Outcome], s: Status) -> usize {
    all.iter().filter(|o| o.status == s).count()
}

/// The results tables' last line: `N passed, N failed, N skipped`.
fn tally(all: &[Outcome]) -> String {
    format!(
        "{} passed, {} failed, {} skipped",
        count(all, Status::Pass),
        count(all, Status::Fail),
        count(all, Status::Skip)
    )
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `a` or `a–b`.
fn range(v: &[u64], unit: &str) -> String {
    let (lo, hi) = (v.iter().min().copied().unwrap_or(0), v.iter().max().copied().unwrap_or(0));
    if lo == hi {
        format!("{lo}{unit}")
    } else {
        format!("{lo}–{hi}{unit}")
    }
}

/// Samples grouped by transition name, in order: "name: cell" joined by `<br>`.
fn per_transition(samples: &[&Sample], cell: impl Fn(&[&Sample]) -> Option<String>) -> String {
    let mut names: Vec<&str> = Vec::new();
    for s in samples {
        if !names.contains(&s.name.as_str()) {
            names.push(&s.name);
        }
    }
    let lines: Vec<String> = names
        .iter()
        .filter_map(|n| {
            let g: Vec<&Sample> = samples.iter().copied().filter(|s| s.name == *n).collect();
            let times = if g.len() > 1 { format!(" ×{}", g.len()) } else { String::new() };
            cell(&g).map(|c| format!("{n}{times}: {c}"))
        })
        .collect();
    if lines.is_empty() {
        "–".into()
    } else {
        lines.join("<br>")
    }
}

fn loss(g: &[&Sample]) -> Option<String> {
    let i: Vec<u64> = g.iter().filter_map(|s| s.icmp.map(u64::from)).collect();
    let u: Vec<u64> = g.iter().map(|s| u64::from(s.udp)).collect();
    let i = if i.is_empty() { "–".into() } else { range(&i, "") };
    Some(format!("{i} icmp, {} udp", range(&u, "")))
}

fn switch(g: &[&Sample]) -> Option<String> {
    let ms: Vec<u64> = g.iter().filter_map(|s| s.switch_ms).collect();
    (!ms.is_empty()).then(|| range(&ms, " ms"))
}

/// The known C bugs a run's notes mention ("... (known bug: X)").
fn known_bugs(o: &Outcome) -> Vec<String> {
    let id = |n: &str, tag: &str| {
        n.split_once(tag).and_then(|(_, r)| r.split_once(')')).map(|(b, _)| b.to_string())
    };
    o.notes.iter().filter_map(|n| id(n, "(known bug: ")).collect()
}

/// One row per scenario: result, loss per transition, switch time, C-vs-Rust differences.
fn summary(all: &[Outcome]) -> (String, Vec<serde_json::Value>) {
    let base = |o: &Outcome| o.name.split('/').next().unwrap_or("").to_string();
    let mut names: Vec<String> = Vec::new();
    for o in all {
        if !names.contains(&base(o)) {
            names.push(base(o));
        }
    }
    let mut md = String::from(
        "| scenario | C | Rust | lost per transition, C | lost per transition, Rust | switch time, C | switch time, Rust | C vs Rust |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let mut rows = Vec::new();
    for name in names {
        let of = |stack: &str| -> Vec<&Outcome> {
            all.iter().filter(|o| o.stack == stack && base(o) == name).collect()
        };
        let (c, r) = (of("c"), of("rust"));
        let result = |v: &[&Outcome]| match v {
            [] => "–".to_string(),
            [o] => o.status.word().to_string(),
            v => {
                let failed = v.iter().filter(|o| o.status == Status::Fail).count();
                if failed == 0 {
                    format!("PASS ({})", v.len())
                } else {
                    format!("FAIL ({failed} of {})", v.len())
                }
            }
        };
        let sc: Vec<&Sample> = c.iter().flat_map(|o| &o.samples).collect();
        let sr: Vec<&Sample> = r.iter().flat_map(|o| &o.samples).collect();
        let mut bugs: Vec<String> = c.iter().flat_map(|o| known_bugs(o)).collect();
        bugs.sort();
        bugs.dedup();
        let mut diff: Vec<String> = Vec::new();
        if !bugs.is_empty() {
            diff.push(format!("known C bugs: {}", bugs.join("; ")));
        }
        let seen = |v: &[&Outcome], k: &str| {
            v.iter().flat_map(|o| &o.observed).find(|(x, _)| x == k).map(|(_, v)| v.clone())
        };
        for (k, cv) in c.iter().flat_map(|o| &o.observed) {
            if let Some(rv) = seen(&r, k).filter(|rv| rv != cv) {
                diff.push(format!("{k}: C {cv}, Rust {rv}"));
            }
        }
        let diff = if diff.is_empty() { "none".to_string() } else { diff.join("<br>") };
        let cells = [
            result(&c),
            result(&r),
            per_transition(&sc, loss),
            per_transition(&sr, loss),
            per_transition(&sc, switch),
            per_transition(&sr, switch),
            diff,
        ];
        let _ =
            writeln!(md, "| {name} | {} |", cells.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | "));
        rows.push(json!({
            "scenario": name, "c": cells[0], "rust": cells[1], "loss_c": cells[2], "loss_rust": cells[3],
            "switch_c": cells[4], "switch_rust": cells[5], "difference": cells[6],
        }));
    }
    (md, rows)
}

pub fn write(dir: &Path, all: &[Outcome]) -> Res<()> {
    let mut md = String::from("# net_failover QEMU test results\n\n");
    let (table, rows) = summary(all);
    md.push_str(&table);
    md.push_str(
        "\nLoss: echo requests without a reply and UDP datagrams that never arrived, per transition \
         (50 ms per packet). Switch time: from the action to the first packet on the new path.\n\n",
    );
    md.push_str("| test | stack | result | seconds | details |\n|---|---|---|---:|---|\n");
    for o in all {
        let mut details = o.reason.clone();
        for n in &o.notes {
            details.push_str(if details.is_empty() { "" } else { "<br>" });
            details.push_str(n);
        }
        row(&mut md, o, &details);
    }
    let _ = writeln!(md, "\n{}", tally(all));
    std::fs::write(dir.join("results.md"), md)?;
    let results: Vec<_> = all
        .iter()
        .map(|o| {
            json!({
                "stack": o.stack, "test": o.name, "status": o.status.word(),
                "reason": o.reason, "seconds": (o.secs * 10.0).round() / 10.0,
                "notes": o.notes, "log": o.log,
                "transitions": o.samples.iter().map(|s| json!({
                    "name": s.name, "lost_icmp": s.icmp, "lost_udp": s.udp, "switch_ms": s.switch_ms,
                })).collect::<Vec<_>>(),
                "observed": o.observed.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    let doc = json!({
        "passed": count(all, Status::Pass),
        "failed": count(all, Status::Fail),
        "skipped": count(all, Status::Skip),
        "summary": rows,
        "results": results,
    });
    std::fs::write(dir.join("results.json"), serde_json::to_string_pretty(&doc)? + "\n")?;
    Ok(())
}

/// One row of a results table: test, stack, result, seconds, and `last`.
fn row(md: &mut String, o: &Outcome, last: &str) {
    let _ = writeln!(
        md,
        "| {} | {} | {} | {:.1} | {} |",
        o.name,
        o.stack,
        o.status.word(),
        o.secs,
        md_cell(last)
    );
}

/// The reliability section of a debug run (`reliability.md`): per scenario
/// and stack, the result, what was done (cycles, operations, seeds), leaks
/// and splats found, injected failures and the planted checks.
pub fn write_reliability(dir: &Path, all: &[Outcome]) -> Res<()> {
    let mut md = String::from(
        "## Reliability (debug kernel: KASAN, kmemleak, lockdep, PROVE_RCU, object debugging, \
         refcount trackers, fault injection)\n\n\
         Each guest ends by unloading every module: all must unload, no netdev may be left, \
         and kmemleak (cleared after boot, scanned twice at the end) must find nothing. \
         Splats on our stack fail the run; the C stack's are listed as known C bugs.\n\n\
         | test | stack | result | seconds | figures |\n|---|---|---|---:|---|\n",
    );
    for o in all {
        let mut cells: Vec<String> = o.rel.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let known = o.notes.iter().filter(|n| n.starts_with("known C bug") || n.starts_with("C: ")).count();
        cells.push(format!("splats: {} unexpected, {known} known C bugs", o.log.len()));
        if !o.reason.is_empty() {
            cells.insert(0, o.reason.clone());
        }
        row(&mut md, o, &cells.join("<br>"));
    }
    let _ = writeln!(md, "\n{}", tally(all));
    std::fs::write(dir.join("reliability.md"), md)?;
    Ok(())
}
