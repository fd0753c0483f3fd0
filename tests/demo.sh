#!/usr/bin/env bash
# The demo: sets everything up (as tests/run.sh), builds the module, boots a
# QEMU guest with the stock virtio_net, an emulated e1000e primary with the
# same MAC and net_failover_rs, and shows the failover: the three netdevs,
# traffic on the primary, on the standby after the primary is unplugged, and
# on the primary again after it is plugged back.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH=$HOME/.cargo/bin:$PATH
kdir=$(tests/setup.sh | tail -n 1)
echo "== building net_failover_rs.ko" >&2
make -s KDIR="$kdir"
cargo build -q --release --manifest-path tests/harness/Cargo.toml
exec tests/harness/target/release/nf-harness --kdir "$kdir" --demo --stack rust \
	--rust-module "$root/net_failover_rs.ko" --out "$root/tests/out/demo" "$@"
