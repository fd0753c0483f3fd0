//! Parses the KTAP that KUnit prints into the kernel log.

/// One test case: "suite.case", Some(passed) or None if skipped, and a reason.
pub type Case = (String, Option<bool>, String);

#[derive(Debug, Default)]
pub struct Report {
    pub cases: Vec<Case>,
    /// Suite results (depth 0): name and whether it passed.
    pub suites: Vec<(String, bool)>,
    /// Sums of the "# Totals:" lines: pass, fail, skip.
    pub totals: Option<(usize, usize, usize)>,
}

fn strip_time(line: &str) -> &str {
    match line.strip_prefix('[').and_then(|r| r.split_once("] ")) {
        Some((_, rest)) => rest,
        None => line,
    }
}

fn field(s: &str, key: &str) -> usize {
    s.split_whitespace().find_map(|w| w.strip_prefix(key)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

pub fn parse(log: &str) -> Report {
    let mut r = Report::default();
    let mut suite = String::new();
    let mut comments: Vec<String> = Vec::new();
    for raw in log.lines() {
        let line = strip_time(raw.trim_end());
        let body = line.trim_start();
        let depth = (line.len() - body.len()) / 4;
        if let Some(name) = body.strip_prefix("# Subtest: ") {
            if depth == 1 {
                suite = name.trim().to_string();
            }
            continue;
        }
        if let Some(t) = body.strip_prefix("# Totals: ") {
            let (p, f, s) = r.totals.unwrap_or_default();
            r.totals = Some((p + field(t, "pass:"), f + field(t, "fail:"), s + field(t, "skip:")));
            continue;
        }
        let (ok, rest) = match body.strip_prefix("not ok ") {
            Some(rest) => (false, rest),
            None => match body.strip_prefix("ok ") {
                Some(rest) => (true, rest),
                None => {
                    let meta = body.starts_with("KTAP version")
                        || body.starts_with("# module:")
                        || body.starts_with("1..");
                    if depth >= 1 && !meta && !body.is_empty() {
                        comments.push(body.trim_start_matches("# ").to_string());
                    }
                    continue;
                }
            },
        };
        let Some((_, rest)) = rest.split_once(' ') else { continue };
        let (name, directive) = rest.split_once(" # ").unwrap_or((rest, ""));
        let name = name.trim().to_string();
        match depth {
            0 => r.suites.push((name, ok)),
            1 => {
                let skip = directive.to_ascii_uppercase().starts_with("SKIP");
                let status = if skip { None } else { Some(ok) };
                let reason = if skip {
                    directive.trim_start_matches(|c: char| c.is_ascii_alphabetic()).trim().to_string()
                } else if ok {
                    String::new()
                } else {
                    let from = comments.iter().position(|c| c.contains("FAILED")).unwrap_or(0);
                    match comments[from..].join(" ") {
                        r if r.is_empty() => "failed".into(),
                        r => r,
                    }
                };
                r.cases.push((format!("{suite}.{name}"), status, reason));
                comments.clear();
            }
            _ => {}
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cases_skips_and_totals() {
        let log = "\
[    5.1] KTAP version 1
[    5.1] 1..1
[    5.1]     KTAP version 1
[    5.1]     # Subtest: nf_policy
[    5.1]     # module: nf_kunit
[    5.1]     1..3
[    5.1]     ok 1 picks_primary
[    5.1]     # picks_standby: EXPECTATION FAILED at policy.rs:10
[    5.1]     Expected a == b, but
[    5.1]     not ok 2 picks_standby
[    5.1]     ok 3 needs_vlan # SKIP no vlan
[    5.1] # nf_policy: pass:1 fail:1 skip:1 total:3
[    5.1] # Totals: pass:1 fail:1 skip:1 total:3
[    5.1] not ok 1 nf_policy
";
        let r = parse(log);
        assert_eq!(r.cases.len(), 3);
        assert_eq!(r.cases[0], ("nf_policy.picks_primary".into(), Some(true), String::new()));
        assert_eq!(r.cases[1].1, Some(false));
        assert_eq!(r.cases[1].2, "picks_standby: EXPECTATION FAILED at policy.rs:10 Expected a == b, but");
        assert_eq!(r.cases[2], ("nf_policy.needs_vlan".into(), None, "no vlan".into()));
        assert_eq!(r.suites, vec![("nf_policy".to_string(), false)]);
        assert_eq!(r.totals, Some((1, 1, 1)));
    }
}
