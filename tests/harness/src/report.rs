//! Results: console lines, results.md and results.json.

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

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn write(dir: &Path, all: &[Outcome]) -> Res<()> {
    let mut md = String::from("# net_failover QEMU test results\n\n");
    md.push_str("| test | stack | result | seconds | details |\n|---|---|---|---:|---|\n");
    for o in all {
        let mut details = o.reason.clone();
        for n in &o.notes {
            details.push_str(if details.is_empty() { "" } else { "<br>" });
            details.push_str(n);
        }
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} | {} |",
            o.name,
            o.stack,
            o.status.word(),
            o.secs,
            md_cell(&details)
        );
    }
    let _ = writeln!(
        md,
        "\n{} passed, {} failed, {} skipped",
        count(all, Status::Pass),
        count(all, Status::Fail),
        count(all, Status::Skip)
    );
    std::fs::write(dir.join("results.md"), md)?;
    let results: Vec<_> = all
        .iter()
        .map(|o| {
            json!({
                "stack": o.stack, "test": o.name, "status": o.status.word(),
                "reason": o.reason, "seconds": (o.secs * 10.0).round() / 10.0,
                "notes": o.notes, "log": o.log,
            })
        })
        .collect();
    let doc = json!({
        "passed": count(all, Status::Pass),
        "failed": count(all, Status::Fail),
        "skipped": count(all, Status::Skip),
        "results": results,
    });
    std::fs::write(dir.join("results.json"), serde_json::to_string_pretty(&doc)? + "\n")?;
    Ok(())
}
