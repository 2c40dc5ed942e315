/**
 * Conntrack entries as `conntrack -L [-o extended]` (conntrack-tools src/conntrack.c via libnetfilter_conntrack's
 * snprintf) and /proc/net/nf_conntrack (net/netfilter/nf_conntrack_standalone.c ct_seq_show) print them. Both print
 * `[l3name l3num] l4name l4num timeout [STATE] key=value… [FLAG]…`, where the first src/dst/port group is the
 * original tuple and the second the reply tuple; /proc adds `zone=` and prints IPv6 unabbreviated.
 */
import {parseAddr, type Family} from '../net/addr.ts'
import {CT_STATUS, type Tuple} from '../engine/state.ts'
import type {ConntrackEntry, Diagnostic} from '../model/snapshot.ts'

/** Printed flags → IPS_* bits. [UNREPLIED] is the absence of SEEN_REPLY and is handled apart. */
const FLAG_BITS: Record<string, number> = {
  ASSURED: CT_STATUS.ASSURED,
  OFFLOAD: CT_STATUS.OFFLOAD,
  // IPS_HW_OFFLOAD (bit 15) implies the flow is offloaded; the model has no separate bit for hardware.
  HW_OFFLOAD: CT_STATUS.OFFLOAD,
  UNTRACKED: CT_STATUS.UNTRACKED,
  FIXED_TIMEOUT: CT_STATUS.FIXED_TIMEOUT,
}

/** Per-tuple keys: ports, ICMP id/type/code, GRE keys (the GRE key takes the port's place in the kernel tuple). */
const TUPLE_KEYS = new Set(['src', 'dst', 'sport', 'dport', 'type', 'code', 'id', 'srckey', 'dstkey'])

interface TupleFields {
  [k: string]: string | undefined
}

function tupleOf(proto: number, f: TupleFields): Tuple {
  if (!f.src || !f.dst) throw new Error('tuple without src/dst')
  const n = (k: string) => (f[k] === undefined ? undefined : Number(f[k]))
  let sport = n('sport') ?? n('srckey')
  let dport = n('dport') ?? n('dstkey')
  // ICMP: the kernel tuple holds the echo id in src.u.icmp.id and type/code in dst.u.icmp (two bytes, type first).
  if (f.type !== undefined) {
    sport = n('id')
    dport = (Number(f.type) << 8) | (n('code') ?? 0)
  }
  return {proto, src: parseAddr(f.src), dst: parseAddr(f.dst), sport, dport}
}

/** Parses one line; throws with a reason. */
export function parseConntrackLine(line: string, origin: string): ConntrackEntry {
  const words = line.trim().split(/\s+/)
  let i = 0
  let family: Family = 4
  if (words[0] === 'ipv4' || words[0] === 'ipv6') {
    family = words[0] === 'ipv4' ? 4 : 6
    i = 2
  }
  const proto = Number(words[i + 1])
  const timeout = Number(words[i + 2])
  if (!words[i] || !Number.isInteger(proto) || !Number.isInteger(timeout)) throw new Error('expected `[ipvN N] PROTO NUM TIMEOUT …`')
  i += 3
  const protoState = words[i] && /^[A-Z_]+$/.test(words[i]) ? words[i++] : undefined
  const tuples: TupleFields[] = [{}]
  let status = CT_STATUS.CONFIRMED | CT_STATUS.SEEN_REPLY
  let mark = 0
  let zone = 0
  for (; i < words.length; i++) {
    const w = words[i]
    const flag = /^\[(\w+)\]$/.exec(w)
    if (flag) {
      if (flag[1] === 'UNREPLIED') status &= ~CT_STATUS.SEEN_REPLY
      else status |= FLAG_BITS[flag[1]] ?? 0
      continue
    }
    const eq = w.indexOf('=')
    if (eq < 0) continue
    const key = w.slice(0, eq)
    const value = w.slice(eq + 1)
    if (TUPLE_KEYS.has(key)) {
      let t = tuples[tuples.length - 1]
      // A repeated key starts the reply tuple.
      if (t[key] !== undefined) tuples.push((t = {}))
      t[key] = value
    } else if (key === 'mark') mark = Number(value) >>> 0
    else if (key === 'zone') zone = Number(value)
  }
  if (tuples.length !== 2) throw new Error(`expected an original and a reply tuple, found ${tuples.length}`)
  const orig = tupleOf(proto, tuples[0])
  const reply = tupleOf(proto, tuples[1])
  if (orig.src.family !== family && words[0]?.startsWith('ipv')) throw new Error(`address family does not match ${words[0]}`)
  family = orig.src.family
  // NAT shows as a reply tuple that is not the inverted original (nf_nat_core.c sets IPS_*_NAT with the binding).
  // ICMP keeps its id in both directions (an id remap is source NAT) and its type changes by nature (echo→reply).
  const icmp = tuples[0].type !== undefined
  if (reply.src.text !== orig.dst.text || (!icmp && reply.sport !== orig.dport)) status |= CT_STATUS.DST_NAT | CT_STATUS.DST_NAT_DONE
  if (reply.dst.text !== orig.src.text || (icmp ? reply.sport !== orig.sport : reply.dport !== orig.sport)) status |= CT_STATUS.SRC_NAT | CT_STATUS.SRC_NAT_DONE
  return {family, proto, protoState, timeout, orig, reply, status, mark, zone, origin, text: line.trim()}
}

/** All entries of a dump; unreadable lines become warnings. Blank lines and tool summaries are skipped. */
export function parseConntrack(text: string, file: string): {entries: ConntrackEntry[]; diagnostics: Diagnostic[]} {
  const entries: ConntrackEntry[] = []
  const diagnostics: Diagnostic[] = []
  text.split('\n').forEach((line, n) => {
    if (!line.trim() || line.startsWith('conntrack v')) return
    try {
      entries.push(parseConntrackLine(line, `${file}:${n + 1}`))
    } catch (e) {
      diagnostics.push({file, line: n + 1, severity: 'warning', message: `conntrack entry skipped: ${(e as Error).message}`})
    }
  })
  return {entries, diagnostics}
}
