#!/usr/bin/env bash
# The layering checks of the module (run by tests/run.sh):
#   - `unsafe` only in netdev.rs, netdev/ and the crate root's C entry points;
#   - every driver file forbids unsafe code;
#   - nothing in netdev/ names the driver (only `crate::netdev` paths);
#   - driver code names no `bindings::` (the crate root's shims aside);
#   - no "SAFETY: See above", and every `unsafe` block has a SAFETY comment;
#   - driver code lines (neither blank nor comment) at most the C driver's 875,
#     for the files that do what the C driver does; the files of features the
#     C driver lacks (`extensions`, each listed in the README's comparison
#     table) are counted and printed beside it.
# Prints one PASS/FAIL line per check and ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=net_failover.rs
core=(master.rs virtio_standby.rs failover_core.rs netvsc_glue.rs policy.rs)
extensions=(slave_marks.rs path_stats.rs path_log.rs link_kind.rs open_delay.rs)
drivers=("${core[@]}" "${extensions[@]}")
passed=0 failed=0
check() { # check <description> <offending lines>
	if [ -z "$2" ]; then
		echo "PASS layering: $1"; passed=$((passed + 1))
	else
		echo "FAIL layering: $1:"; echo "$2" | sed 's/^/    /'; failed=$((failed + 1))
	fi
}
rs=$(ls *.rs netdev/*.rs | grep -v _generated)  # not the build's bindings

check "unsafe only in netdev/ and the crate root" \
	"$(grep -lw unsafe $rs | grep -v -e '^netdev' -e "^$root\$")"
check "driver files carry #![forbid(unsafe_code)]" \
	"$(for f in "${drivers[@]}"; do grep -q '^#!\[forbid(unsafe_code)\]' "$f" || echo "$f"; done)"
check "netdev/ names only itself in the crate" \
	"$(grep -n 'crate::' netdev.rs netdev/*.rs | grep -v 'crate::netdev')"
check "driver code names no bindings" \
	"$(grep -n 'bindings::' "${drivers[@]}")"
check "no 'SAFETY: See above'" "$(grep -n 'SAFETY: See above' $rs)"
check "every unsafe block has its SAFETY comment" "$(
	awk 'FNR == 1 { prev = ""; blk = 0 }
	     /\/\/ SAFETY:/ { blk = 1 }
	     /unsafe \{/ && !/^ *\/\// { if (!blk) print FILENAME ":" FNR ": " $0 }
	     !/^ *\/\// && !/^ *$/ && !/unsafe \{/ && !/SAFETY:/ { if ($0 ~ /;$|\{$|\}$|,$/) blk = 0 }' $rs)"

code_lines() { grep -cvE '^\s*($|//)' "$@" | awk -F: '{ s += $NF } END { print s }'; }
per_file() { for f in "$@"; do printf '%s %s, ' "$f" "$(code_lines "$f")"; done | sed 's/, $//'; }
total=$(code_lines "$root" "${core[@]}")
echo "driver code lines: $total ($(per_file "$root" "${core[@]}"))"
[ ${#extensions[@]} = 0 ] ||
	echo "extension code lines: $(code_lines "${extensions[@]}") ($(per_file "${extensions[@]}"))"
echo "netdev code lines: $(code_lines netdev.rs netdev/*.rs), nf_helpers.c: $(grep -cvE '^\s*($|//|/?\*)' nf_helpers.c)"
check "driver code at most the C driver's 875 lines" "$([ "$total" -le 875 ] || echo "$total lines")"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
