/**
 * Conntrack lookup as nf_conntrack_in does it (net/netfilter/nf_conntrack_core.c): find the entry whose original
 * or reply tuple equals the packet's tuple; otherwise the protocol decides whether a new entry may be created
 * (net/netfilter/nf_conntrack_proto_tcp.c tcp_new / tcp_conntracks[]).
 */
import type {ConntrackEntry} from '../model/snapshot.ts'
import {PROTO, TCP_FLAGS, tcpFlagsText} from '../model/packet.ts'
import {CT_STATUS, type CtView, type PacketState, type Tuple} from './state.ts'

export function tupleKey(t: Tuple, zone = 0): string {
  return `${t.proto}|${t.src.text}|${t.sport ?? ''}|${t.dst.text}|${t.dport ?? ''}|${zone}`
}

export function tupleText(t: Tuple): string {
  if (isIcmp(t.proto) && t.dport !== undefined) return `${t.src.text} → ${t.dst.text} (icmp type ${t.dport >> 8} code ${t.dport & 0xff} id ${t.sport ?? 0})`
  const port = (a: string, p?: number) => (p === undefined ? a : a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`)
  return `${port(t.src.text, t.sport)} → ${port(t.dst.text, t.dport)}`
}

/**
 * The tuple conntrack builds from a packet. ICMP keys on the echo id (as `sport`) and type << 8 | code (as
 * `dport`), as nf_conntrack_proto_icmp.c icmp_pkt_to_tuple does and as the conntrack parser stores it.
 */
export function packetTuple(pkt: PacketState): Tuple {
  if (isIcmp(pkt.proto) && pkt.icmpType !== undefined) {
    return {proto: pkt.proto, src: pkt.src, dst: pkt.dst, sport: pkt.icmpId ?? 0, dport: (pkt.icmpType << 8) | (pkt.icmpCode ?? 0)}
  }
  return {proto: pkt.proto, src: pkt.src, dst: pkt.dst, sport: pkt.sport, dport: pkt.dport}
}

function isIcmp(proto: number): boolean {
  return proto === PROTO.icmp || proto === PROTO.icmpv6
}

/** icmp_invert_tuple / icmpv6_invert_tuple: a request's reply tuple carries the reply type (echo 8 → 0, 128 → 129). */
const ICMP_INVERSE: Record<number, number> = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17}
const ICMPV6_INVERSE: Record<number, number> = {128: 129, 129: 128, 139: 140, 140: 139}

export function invert(t: Tuple): Tuple {
  if (isIcmp(t.proto) && t.dport !== undefined) {
    const type = t.dport >> 8
    const inv = (t.proto === PROTO.icmp ? ICMP_INVERSE : ICMPV6_INVERSE)[type] ?? type
    return {proto: t.proto, src: t.dst, dst: t.src, sport: t.sport, dport: (inv << 8) | (t.dport & 0xff)}
  }
  return {proto: t.proto, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport}
}

export interface CtLookup {
  ct: CtView | null
  action: 'found' | 'new' | 'invalid'
  text: string
  entry?: ConntrackEntry
}

/** The conntrack table: snapshot entries indexed by both tuples. */
export class ConntrackTable {
  private byTuple = new Map<string, {entry: ConntrackEntry; dir: 'ORIGINAL' | 'REPLY'}>()

  constructor(entries: readonly ConntrackEntry[], readonly known: boolean) {
    for (const entry of entries) {
      this.byTuple.set(tupleKey(entry.orig, entry.zone), {entry, dir: 'ORIGINAL'})
      this.byTuple.set(tupleKey(entry.reply, entry.zone), {entry, dir: 'REPLY'})
    }
  }

  get size(): number {
    return this.byTuple.size / 2
  }

  /** The entry already using this tuple in either direction (nf_nat_used_tuple checks reply tuples). */
  holder(t: Tuple, zone = 0): ConntrackEntry | undefined {
    return this.byTuple.get(tupleKey(t, zone))?.entry
  }

  lookup(pkt: PacketState, zone: number, tcpLoose = true): CtLookup {
    const tuple = packetTuple(pkt)
    const hit = this.byTuple.get(tupleKey(tuple, zone))
    if (hit) {
      const {entry, dir} = hit
      const established = dir === 'REPLY' || (entry.status & CT_STATUS.SEEN_REPLY) !== 0
      const ct: CtView = {
        state: established ? 'ESTABLISHED' : 'NEW', dir, status: entry.status, mark: entry.mark, zone: entry.zone,
        orig: entry.orig, reply: entry.reply, expires: entry.timeout, origin: entry.origin,
      }
      const why = dir === 'REPLY' ? 'the packet is a reply of that connection' : established ? 'the connection has seen a reply' : 'the connection has not seen a reply yet'
      return {ct, action: 'found', entry, text: `entry ${entry.origin} (${tupleText(entry.orig)}) matches in the ${dir.toLowerCase()} direction: ${ct.state}, because ${why}`}
    }
    if (pkt.proto === PROTO.icmpv6 && pkt.icmpType !== undefined && ICMPV6_UNTRACKED.has(pkt.icmpType)) {
      const t = tuple
      const ct: CtView = {state: 'UNTRACKED', dir: 'ORIGINAL', status: CT_STATUS.UNTRACKED, mark: 0, zone, orig: t, reply: t, origin: 'untracked'}
      return {ct, action: 'new', text: `ICMPv6 type ${pkt.icmpType} (neighbour discovery / MLD) is never tracked: UNTRACKED`}
    }
    const invalid = newConnectionInvalid(pkt, tcpLoose)
    if (invalid) return {ct: null, action: 'invalid', text: `no entry for ${tupleText(tuple)}, and ${invalid}: INVALID (no entry is created)`}
    const ct: CtView = {state: 'NEW', dir: 'ORIGINAL', status: 0, mark: 0, zone, orig: tuple, reply: invert(tuple), origin: 'new'}
    const where = this.known ? 'no entry in the snapshot matches' : 'no conntrack table in the snapshot (assumed empty), so nothing matches'
    return {ct, action: 'new', text: `${where} ${tupleText(tuple)}: a new entry is created, state NEW`}
  }
}

/** Types that may start a connection: icmp_new() / icmpv6_new() valid_new[] (echo, timestamp, info, mask requests). */
const ICMP_NEW = new Set([8, 13, 15, 17])
const ICMPV6_NEW = new Set([128, 139])
/** Error types handled by icmp_error()/icmpv6_error(): RELATED to the quoted connection, or INVALID. */
const ICMP_ERRORS = new Set([3, 4, 5, 11, 12])
const ICMPV6_ERRORS = new Set([1, 2, 3, 4])
/** noct_valid_new[] in nf_conntrack_proto_icmpv6.c: MLD and neighbour discovery are left untracked. */
const ICMPV6_UNTRACKED = new Set([130, 131, 132, 133, 134, 135, 136, 143])

/**
 * Why a packet without an entry cannot start one, or undefined if it can. TCP: tcp_new() creates entries for
 * SYN, and for a bare ACK with nf_conntrack_tcp_loose=1 (the default: mid-stream pickup); SYN-ACK, FIN and RST
 * without an entry map to sIV in tcp_conntracks[0][..][sNO]; invalid flag combinations are refused by tcp_error().
 */
function newConnectionInvalid(pkt: PacketState, tcpLoose: boolean): string | undefined {
  if ((pkt.proto === PROTO.icmp || pkt.proto === PROTO.icmpv6) && pkt.icmpType !== undefined) {
    const v6 = pkt.proto === PROTO.icmpv6
    const starts = v6 ? ICMPV6_NEW : ICMP_NEW
    if (starts.has(pkt.icmpType)) return undefined
    const errors = v6 ? ICMPV6_ERRORS : ICMP_ERRORS
    return errors.has(pkt.icmpType)
      ? `ICMP${v6 ? 'v6' : ''} error type ${pkt.icmpType} quotes no tracked connection (it would be RELATED to one)`
      : `ICMP${v6 ? 'v6' : ''} type ${pkt.icmpType} is a reply or informational message that cannot start a connection`
  }
  if (pkt.proto !== PROTO.tcp || pkt.tcpFlags === undefined) return undefined
  const f = pkt.tcpFlags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK | TCP_FLAGS.FIN | TCP_FLAGS.RST | TCP_FLAGS.URG | TCP_FLAGS.PSH)
  const {SYN, ACK, FIN, RST} = TCP_FLAGS
  const text = tcpFlagsText(pkt.tcpFlags)
  if ((f & (SYN | FIN)) === (SYN | FIN) || (f & (SYN | RST)) === (SYN | RST)) return `TCP flags ${text} are an invalid combination`
  if ((f & SYN) && !(f & ACK)) return undefined
  if (f & SYN) return `a TCP ${text} cannot start a connection`
  if (f & RST) return `a TCP ${text} cannot start a connection`
  if (f & FIN) return `a TCP ${text} cannot start a connection`
  if (f & ACK) return tcpLoose ? undefined : `a TCP ${text} without a connection is not picked up (nf_conntrack_tcp_loose = 0)`
  return `TCP flags ${text} are not valid without a connection`
}
