#!/bin/sh
# nfstep snapshot collector: writes the read-only state nfstep needs into one directory.
#
#   sh collect.sh OUTDIR                      # this node
#   NETNS=name sh collect.sh OUTDIR           # inside `ip netns exec name`
#   sh collect.sh OUTDIR NETNS=name           # same
#   curl -fsSL .../collect.sh | sh -s OUTDIR  # without saving the script
#
# Run as root (iptables-save, nft, conntrack and ipvsadm need CAP_NET_ADMIN). Every command only reads.
# A missing tool or a failing command does not stop the run: its exit code and stderr go to meta.json and its
# output file is left out, because nfstep reads an absent file as "unknown" and an empty one as "known empty".
# The file names below are a contract with nfstep's snapshot loader; do not rename them.

set -u
LC_ALL=C
export LC_ALL

OUT=
for arg in "$@"; do
  case $arg in
    NETNS=*) NETNS=${arg#NETNS=} ;;
    -h|--help) sed -n '2,12p' "$0" 2>/dev/null; exit 0 ;;
    *) if [ -z "$OUT" ]; then OUT=$arg; else echo "collect.sh: unexpected argument: $arg" >&2; exit 2; fi ;;
  esac
done
NETNS=${NETNS:-}
if [ -z "$OUT" ]; then
  echo "usage: sh collect.sh OUTDIR [NETNS=name]" >&2
  exit 2
fi
mkdir -p "$OUT" || exit 1
if [ -n "$NETNS" ] && ! ip netns exec "$NETNS" true < /dev/null 2>/dev/null; then
  echo "collect.sh: cannot enter network namespace '$NETNS'" >&2
  exit 1
fi

TMP=$(mktemp -d 2>/dev/null || { d=/tmp/nfstep-collect.$$; mkdir -m 700 "$d" && echo "$d"; }) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# JSON string body of a file: control characters and non-ASCII dropped (LC_ALL=C keeps tool messages ASCII),
# backslash, quote and tab escaped, lines joined with \n, capped so one chatty tool cannot bloat meta.json.
json_text() {
  head -c 4000 "$1" | tr -d '\000-\010\013-\037\177-\377' |
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' |
    awk '{ printf "%s%s", (NR > 1 ? "\\n" : ""), $0 }'
}
json_str() {
  printf '%s\n' "$1" > "$TMP/s"
  printf '"%s"' "$(json_text "$TMP/s")"
}

ENTRIES=
# record FILE COMMAND RC: one meta.json entry; the output file is removed when the command failed.
record() {
  if [ "$3" -ne 0 ]; then rm -f "$OUT/$1"; fi
  entry="$(json_str "$1"): {\"command\": $(json_str "$2"), \"exitCode\": $3, \"stderr\": \"$(json_text "$TMP/err")\"}"
  ENTRIES="${ENTRIES:+$ENTRIES,
    }$entry"
}

# in_ns CMD...: run CMD in the target namespace (or here). stdin is /dev/null: under `curl | sh` it is the
# script itself, and a tool that read it would swallow the rest of the script.
in_ns() {
  if [ -n "$NETNS" ]; then ip netns exec "$NETNS" "$@" < /dev/null; else "$@" < /dev/null; fi
}

# collect FILE CMD...: run CMD (read-only), stdout to OUTDIR/FILE.
collect() {
  file=$1; shift
  in_ns "$@" > "$OUT/$file" 2> "$TMP/err"
  record "$file" "$*" $?
}

collect iptables-save.txt iptables-save -c
collect ip6tables-save.txt ip6tables-save -c
collect ipset-save.txt ipset save
collect ip-addr.json ip -j addr show
collect ip-link.json ip -j -d link show
collect ip-route.json ip -j route show table all
collect ip6-route.json ip -j -6 route show table all
collect ip-rule.json ip -j rule show
collect ip6-rule.json ip -j -6 rule show
collect conntrack.txt conntrack -L -o extended
collect nft-ruleset.json nft -j list ruleset
collect ipvsadm-save.txt ipvsadm -Sn
collect ipvsadm-list.txt ipvsadm -Ln
collect ipvs-conn.txt ipvsadm -Lnc
collect proc-ip_vs.txt cat /proc/net/ip_vs
collect proc-ip_vs_conn.txt cat /proc/net/ip_vs_conn

# sysctl: only the keys that change packet paths. `sysctl -a` inside the namespace reads its own
# /proc/sys/net (per-netns for the keys below, except where the kernel keeps one global value).
SYSCTL_KEYS='^(net\.ipv4\.ip_forward|net\.ipv6\.conf\.[^ ]+\.forwarding|net\.ipv4\.conf\.[^ ]+\.(rp_filter|src_valid_mark|route_localnet|forwarding|accept_local)|net\.bridge\.bridge-nf-[^ ]+|net\.ipv4\.vs\.[^ ]+|net\.netfilter\.nf_conntrack_[^ ]+) = '
in_ns sysctl -a > "$TMP/sysctl" 2> "$TMP/err"
rc=$?
grep -E "$SYSCTL_KEYS" "$TMP/sysctl" > "$OUT/sysctl.txt"
record sysctl.txt "sysctl -a | grep -E '$SYSCTL_KEYS'" $rc

HOST=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname 2>/dev/null)
KERNEL=$(uname -r 2>/dev/null)
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
IPT=$(iptables-save --version 2>/dev/null | head -n 1)
if [ -n "$NETNS" ]; then NSJSON=$(json_str "$NETNS"); else NSJSON=null; fi
cat > "$OUT/meta.json" <<EOF
{
  "collector": "nfstep collect.sh 1",
  "hostname": $(json_str "$HOST"),
  "kernel": $(json_str "$KERNEL"),
  "time": $(json_str "$NOW"),
  "netns": $NSJSON,
  "iptablesVersion": $(json_str "$IPT"),
  "collected": {
    $ENTRIES
  }
}
EOF

missing=$(printf '%s\n' "$ENTRIES" | grep -c '"exitCode": [1-9]')
echo "collect.sh: wrote $OUT ($missing of 17 commands failed or are not installed; see meta.json)" >&2
exit 0
