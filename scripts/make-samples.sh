#!/bin/sh
# Regenerates the bundled samples under traces/<name>/ from their source rules, as real dumps:
# builds a throwaway network-namespace topology, loads the rules into it, runs traces/collect.sh inside the
# node namespace, and deletes the namespaces again. Needs root; never touches the root namespace.
#
#   sh scripts/make-samples.sh              # every traces/*/source/
#   sh scripts/make-samples.sh docker-host  # just these
#
# A sample's source/ directory holds, as the node's admin would write them:
#   setup.sh          namespaces, links, addresses, routes, ip rules, sysctls (sourced; helpers below)
#   ipset.rules       optional, `ipset restore` input, loaded into the node before the rules
#   iptables.rules    optional, `iptables-restore` input
#   ip6tables.rules   optional, `ip6tables-restore` input
# setup.sh may define `after_rules` (run once the rules are loaded, e.g. a ping that leaves a conntrack entry).

set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TRACES=$ROOT/traces
PREFIX=nfstep-smp$$
CREATED=

cleanup() {
  for n in $CREATED; do ip netns del "$n" 2>/dev/null || true; done
  CREATED=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ns ROLE: create namespace $PREFIX-ROLE with lo up. Each sample's namespaces live only while it is built.
ns() {
  ip netns add "$PREFIX-$1"
  CREATED="$CREATED $PREFIX-$1"
  ip -n "$PREFIX-$1" link set lo up
}
# nsx ROLE CMD...: run CMD inside namespace ROLE.
nsx() { r=$1; shift; ip netns exec "$PREFIX-$r" "$@"; }
# nip ROLE ARGS...: `ip ARGS` inside namespace ROLE.
nip() { r=$1; shift; ip -n "$PREFIX-$r" "$@"; }
# link ROLE_A IF_A ROLE_B IF_B [MAC_A MAC_B]: a veth pair between two namespaces, both ends up.
# Fixed MACs keep regenerated samples stable.
link() {
  # Created inside ROLE_A with its peer placed straight into ROLE_B: nothing ever appears in the root namespace.
  nip "$1" link add "$2" type veth peer name "$4" netns "$PREFIX-$3"
  if [ $# -ge 6 ]; then nip "$1" link set "$2" address "$5"; nip "$3" link set "$4" address "$6"; fi
  nip "$1" link set "$2" up
  nip "$3" link set "$4" up
}
# sysctl_ns ROLE KEY=VALUE...: per-namespace sysctls (/proc/sys/net inside the namespace).
sysctl_ns() { r=$1; shift; nsx "$r" sysctl -q -w "$@"; }

# Files collect.sh writes; removed before a sample is re-collected so a vanished file does not linger.
SNAPSHOT_FILES='iptables-save.txt ip6tables-save.txt ipset-save.txt ip-addr.json ip-link.json ip-route.json
ip6-route.json ip-rule.json ip6-rule.json conntrack.txt sysctl.txt nft-ruleset.json ipvsadm-save.txt
ipvsadm-list.txt ipvs-conn.txt proc-ip_vs.txt proc-ip_vs_conn.txt meta.json'

build() {
  name=$1
  src=$TRACES/$name/source
  [ -f "$src/setup.sh" ] || { echo "make-samples: $src/setup.sh missing" >&2; exit 1; }
  unset -f after_rules 2>/dev/null || true
  # shellcheck disable=SC1090
  . "$src/setup.sh"
  if [ -f "$src/ipset.rules" ]; then nsx node ipset restore < "$src/ipset.rules"; fi
  if [ -f "$src/iptables.rules" ]; then nsx node iptables-restore < "$src/iptables.rules"; fi
  if [ -f "$src/ip6tables.rules" ]; then nsx node ip6tables-restore < "$src/ip6tables.rules"; fi
  if command -v after_rules > /dev/null 2>&1; then after_rules; fi

  out=$(mktemp -d)
  # A private UTS namespace so meta.json names the sample, not the machine that built it.
  nsx node unshare --uts sh -c 'hostname "$1" && exec sh "$2" "$3"' _ "$name" "$TRACES/collect.sh" "$out"
  for f in $SNAPSHOT_FILES; do rm -f "$TRACES/$name/$f"; done
  mv "$out"/* "$TRACES/$name/"
  rmdir "$out"
  cleanup
  echo "make-samples: $name: $(ls "$TRACES/$name" | grep -v -e README.md -e source | tr '\n' ' ')"
}

if [ $# -eq 0 ]; then
  set --
  for d in "$TRACES"/*/source; do set -- "$@" "$(basename "$(dirname "$d")")"; done
fi
for s in "$@"; do build "$s"; done
