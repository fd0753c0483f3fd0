//! The calls on the per-packet path of each module, read from its object code:
//! `llvm-objdump -dr` of the hot functions (start_xmit, select_queue, the rx
//! handler) and of the module's own functions they call, down to the calls
//! that leave the module.

use crate::util::{Context, Res};
use crate::Opts;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// The hot functions of each module: C's by name, ours by the trampolines
/// that `net_device_ops` and the rx handler point at.
const C_ROOTS: [(&str, &str); 3] = [
    ("start_xmit", "net_failover_start_xmit"),
    ("select_queue", "net_failover_select_queue"),
    ("rx handler", "net_failover_handle_frame"),
];
/// Ours installs one rx handler instance on the primary and another on the standby.
const RUST_ROOTS: [(&str, &str); 4] = [
    ("start_xmit", "Adapter<net_failover::master::NetFailover>>::start_xmit_callback"),
    ("select_queue", "Adapter<net_failover::master::NetFailover>>::select_queue_callback"),
    ("rx handler (primary)", "Adapter<net_failover::master::NetFailover>>::handle_frame_callback::<false>"),
    ("rx handler (standby)", "Adapter<net_failover::master::NetFailover>>::handle_frame_callback::<true>"),
];
/// A `jmp` to it is a return (the return thunk), not a tail call.
const NOT_CALLS: [&str; 1] = ["__x86_return_thunk"];

/// Per function: the call (and tail-call) targets in order; None for an indirect call.
type Calls = BTreeMap<String, Vec<Option<String>>>;

fn disassemble(ko: &Path) -> Res<Calls> {
    let out = Command::new("llvm-objdump-19")
        .args(["-dr", "--no-show-raw-insn", "--demangle"])
        .arg(ko)
        .output()
        .ctx("llvm-objdump-19")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut calls = Calls::new();
    let mut cur: Option<String> = None;
    // The last direct call or jmp seen, waiting for its relocation line.
    let mut pending: Option<String> = None;
    let flush = |calls: &mut Calls, cur: &Option<String>, p: Option<String>| {
        if let (Some(f), Some(ins)) = (cur, p) {
            if let Some(t) = local_target(&ins) {
                calls.get_mut(f).unwrap().push(t);
            }
        }
    };
    for line in text.lines() {
        if let Some(name) = line.strip_suffix(">:").and_then(|l| l.split_once(" <")).map(|(_, n)| n) {
            flush(&mut calls, &cur, pending.take());
            cur = Some(name.to_string());
            calls.entry(name.to_string()).or_default();
            continue;
        }
        let t = line.trim();
        if t.contains("R_X86_64_PLT32") || t.contains("R_X86_64_PC32") {
            if let (Some(f), Some(_)) = (&cur, pending.take()) {
                // "OFFSET:  R_X86_64_PLT32\tSYMBOL-0x4"; a demangled SYMBOL has spaces.
                let sym = t.split_once("R_X86_64_P").and_then(|(_, r)| r.split_once(char::is_whitespace));
                let sym = sym.map_or("", |(_, s)| s.trim());
                let sym = sym.rsplit_once(['-', '+']).map_or(sym, |(s, _)| s).to_string();
                if !NOT_CALLS.contains(&sym.as_str()) {
                    calls.get_mut(f).unwrap().push(Some(sym));
                }
            }
            continue;
        }
        let ins = t.split_once(':').map_or("", |(_, i)| i.trim());
        let op = ins.split_whitespace().next().unwrap_or("");
        if matches!(op, "callq" | "call" | "jmp" | "jmpq") {
            flush(&mut calls, &cur, pending.take());
            if ins.contains('*') {
                if op.starts_with("call") {
                    calls.get_mut(cur.as_ref().unwrap()).unwrap().push(None);
                }
            } else {
                pending = Some(ins.to_string());
            }
        } else if !op.is_empty() {
            flush(&mut calls, &cur, pending.take());
        }
    }
    flush(&mut calls, &cur, pending.take());
    Ok(calls)
}

/// A call resolved without a relocation: `callq 0x120 <name>` to the start of a function.
fn local_target(ins: &str) -> Option<Option<String>> {
    let (op, rest) = ins.split_once(char::is_whitespace)?;
    if !op.starts_with("call") {
        return None;
    }
    let name = rest.split_once('<')?.1.strip_suffix('>')?;
    (!name.contains('+')).then(|| Some(name.to_string()))
}

/// The calls that leave the module on the path of `root`, following the
/// module's own functions (a call to one is listed with the module's name).
fn path_of(calls: &Calls, root: &str) -> (Vec<String>, Vec<String>) {
    let mut external = Vec::new();
    let mut internal = Vec::new();
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_string()];
    while let Some(f) = stack.pop() {
        if !seen.insert(f.clone()) {
            continue;
        }
        for t in calls.get(&f).into_iter().flatten() {
            match t {
                None => external.push("(indirect call)".to_string()),
                Some(s) if calls.contains_key(s) => {
                    internal.push(short(s));
                    stack.push(s.clone());
                }
                Some(s) => external.push(s.clone()),
            }
        }
    }
    (external, internal)
}

/// A demangled Rust name without its generic arguments' paths.
fn short(name: &str) -> String {
    let mut s = name.to_string();
    for p in ["net_failover::netdev::", "net_failover::master::", "net_failover::", "core::"] {
        s = s.replace(p, "");
    }
    s
}

/// The markdown listing for both modules.
pub fn listing(o: &Opts) -> Res<String> {
    let mut md = String::from(
        "Calls that leave the module on each hot path (from `llvm-objdump -dr` of the \
         module's code: the hot function and every module function it calls, \
         one entry per call site, whether or not it runs for every packet).\n\n| module | path | calls out of the module | module functions on the path |\n|---|---|---|---|\n",
    );
    for (name, ko) in crate::bench::module_paths(o) {
        let calls = disassemble(&ko)?;
        let roots: &[(&str, &str)] = if name == "c" { &C_ROOTS } else { &RUST_ROOTS };
        for (path, pat) in roots {
            let Some(root) = calls.keys().find(|k| k.as_str() == *pat || k.ends_with(pat)) else {
                let _ = writeln!(md, "| {name} | {path} | (function {pat} not found) | |");
                continue;
            };
            let (ext, int) = path_of(&calls, root);
            let _ = writeln!(
                md,
                "| {name} | {path} | {} | {} |",
                if ext.is_empty() { "none".into() } else { ext.join(", ") },
                if int.is_empty() { "-".into() } else { int.join(", ").replace('|', "\\|") }
            );
        }
    }
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_module_functions_to_external_calls() {
        let mut c = Calls::new();
        c.insert("root".into(), vec![Some("helper".into()), Some("dev_queue_xmit".into())]);
        c.insert("helper".into(), vec![Some("nf_netif_running".into()), None, Some("root".into())]);
        let (ext, int) = path_of(&c, "root");
        assert_eq!(ext, ["dev_queue_xmit", "nf_netif_running", "(indirect call)"]);
        assert_eq!(int, ["helper", "root"]);
    }

    #[test]
    fn local_calls_without_relocation() {
        assert_eq!(
            local_target("callq\t0x120 <net_failover_xmit_ready>"),
            Some(Some("net_failover_xmit_ready".into()))
        );
        assert_eq!(local_target("callq\t0x125 <foo+0x5>"), None);
        assert_eq!(local_target("jmp\t0x125 <foo>"), None);
    }
}
