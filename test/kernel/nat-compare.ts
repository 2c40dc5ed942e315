/**
 * The NAT part of the kernel-differential comparison: the packet's addresses after NAT, its conntrack state,
 * direction and NAT status bits where it leaves or is delivered, and the connection's tuples (kernel: `conntrack -E`
 * NEW event; engine: PacketState.final.ct).
 *
 * Where the kernel chooses (address ranges by hash, ports from a range or at random), the engine shows one value and
 * reports the range on its `nat` step (addrRange / portRange): the kernel's value must lie in that range. A kernel
 * value inside the range that differs from the one the engine shows is not a failure but is reported as a note.
 */
import {compareAddr, parseAddr} from '../../src/net/addr.ts'
import {PROTO} from '../../src/model/packet.ts'
import type {Outcome} from '../../src/engine/api.ts'
import {CT_STATUS, type Tuple} from '../../src/engine/state.ts'
import type {Endpoints, KernelResult} from './oracle.ts'
import {diffTraces, formatTrace, fromEngine} from './verdict-trace.ts'

interface Side {
  addr?: [string, string]
  port?: [number, number]
}

export interface Ranges {
  src: Side
  dst: Side
}

/** The ranges the engine reported, by the side of the packet they rewrite. */
export function natRanges(o: Outcome): Ranges {
  const out: Ranges = {src: {}, dst: {}}
  for (const s of o.steps) {
    if (s.type !== 'nat' || (!s.addrRange && !s.portRange)) continue
    const dst = s.kind === 'dnat' || s.kind === 'redirect' || (s.kind === 'netmap' && (s.hook === 'PREROUTING' || s.hook === 'OUTPUT'))
    const side = dst ? out.dst : out.src
    if (s.addrRange) side.addr = s.addrRange
    if (s.portRange) side.port = s.portRange
  }
  return out
}

export interface NatDiff {
  diffs: string[]
  /** Kernel values inside the engine's range but not the value the engine shows. */
  notes: string[]
}

class Cmp {
  readonly diffs: string[] = []
  readonly notes: string[] = []
  addr(what: string, k: string, e: string, range?: [string, string]): void {
    if (parseAddr(k).text === parseAddr(e).text) return
    if (range && compareAddr(parseAddr(k), parseAddr(range[0])) >= 0 && compareAddr(parseAddr(k), parseAddr(range[1])) <= 0) {
      this.notes.push(`${what}: kernel ${k}, engine shows ${e} (in the engine's range ${range[0]}-${range[1]})`)
      return
    }
    this.diffs.push(`${what}: kernel ${k} / engine ${e}${range ? ` (engine range ${range[0]}-${range[1]})` : ''}`)
  }
  port(what: string, k: number | undefined, e: number | undefined, range?: [number, number]): void {
    if (k === e) return
    if (range && k !== undefined && k >= range[0] && k <= range[1]) {
      this.notes.push(`${what}: kernel ${k}, engine shows ${e} (in the engine's range ${range[0]}-${range[1]})`)
      return
    }
    this.diffs.push(`${what}: kernel ${k ?? '-'} / engine ${e ?? '-'}${range ? ` (engine range ${range[0]}-${range[1]})` : ''}`)
  }
  /** A packet's or tuple's addresses and ports; `src`/`dst` say which engine ranges apply to which field. */
  endpoints(what: string, k: Endpoints, e: Endpoints, ported: boolean, src: Side, dst: Side): void {
    this.addr(`${what} src`, k.src, e.src, src.addr)
    this.addr(`${what} dst`, k.dst, e.dst, dst.addr)
    if (!ported) return
    this.port(`${what} sport`, k.sport, e.sport, src.port)
    this.port(`${what} dport`, k.dport, e.dport, dst.port)
  }
}

function ends(t: Tuple | {src: {text: string}; dst: {text: string}; sport?: number; dport?: number}): Endpoints {
  return {src: t.src.text, dst: t.dst.text, sport: t.sport, dport: t.dport}
}

/**
 * NAT differences between the kernel's result and one engine outcome. `entry`: the packet opened the connection, so
 * the kernel's NEW event is expected and its tuples are compared. `inherit`: the ranges of the connection's first
 * packet, for a later packet in the same direction (it gets the mapping the kernel chose then, which the engine
 * shows as its own first value).
 */
export function diffNat(k: KernelResult, o: Outcome, proto: number, entry: boolean, inherit?: Ranges): NatDiff {
  const c = new Cmp()
  const ported = proto === PROTO.tcp || proto === PROTO.udp
  const own = natRanges(o)
  const r = inherit ? {src: {...inherit.src, ...own.src}, dst: {...inherit.dst, ...own.dst}} : own
  const delivered = k.disposition === 'local' || k.disposition === 'forward' || k.disposition === 'output'
  if (!delivered) return c
  if (k.final) c.endpoints('final packet', k.final, ends(o.final), ported, r.src, r.dst)
  const ect = o.final.ct
  if (k.ct) {
    const state = ect === null ? 'INVALID' : (ect?.state ?? '(no conntrack)')
    if (k.ct.state !== state) c.diffs.push(`ct state: kernel ${k.ct.state} / engine ${state}`)
    if (ect) {
      if (k.ct.reply !== (ect.dir === 'REPLY')) c.diffs.push(`ct direction: kernel ${k.ct.reply ? 'REPLY' : 'ORIGINAL'} / engine ${ect.dir}`)
      for (const [bit, name, kv, side] of [[CT_STATUS.DST_NAT, 'DST_NAT', k.ct.dnat, r.dst], [CT_STATUS.SRC_NAT, 'SRC_NAT', k.ct.snat, r.src]] as const) {
        const ev = (ect.status & bit) !== 0
        if (kv === ev) continue
        // The kernel sets the bit only when the mapping changed the tuple (nf_nat_core.c nf_nat_setup_info): a random
        // choice from a range that holds the original value may leave it unchanged.
        if (!kv && (side.addr || side.port)) c.notes.push(`ct status ${name}: kernel's choice from the range kept the original tuple (no ${name} bit)`)
        else c.diffs.push(`ct status ${name}: kernel ${kv} / engine ${ev}`)
      }
    }
  }
  if (entry && ect) {
    if (!k.entry) {
      if (ect.state !== 'UNTRACKED') c.diffs.push(`kernel: no conntrack NEW event for this packet / engine: connection ${JSON.stringify(ends(ect.orig))} ⇄ ${JSON.stringify(ends(ect.reply))}`)
    } else {
      c.endpoints('conntrack original tuple', k.entry.orig, ends(ect.orig), ported, {}, {})
      // The reply tuple's source is where DNAT sent the packet; its destination is where SNAT made it come from.
      c.endpoints('conntrack reply tuple', k.entry.reply, ends(ect.reply), ported, r.dst, r.src)
    }
  }
  return c
}

export interface Match {
  /** Index of the engine outcome that agrees (or comes closest). */
  index: number
  diffs: string[]
  notes: string[]
}

/** The engine outcome that agrees with the kernel on rules, verdicts, disposition, mark and NAT; else the closest. */
export function matchOutcome(k: KernelResult, outcomes: readonly Outcome[], proto: number, entry: boolean, inherit?: Ranges): Match {
  let best: Match | undefined
  outcomes.forEach((o, index) => {
    let diffs: string[]
    let notes: string[] = []
    try {
      const n = diffNat(k, o, proto, entry, inherit)
      diffs = [...diffTraces(k, fromEngine(k.packetId, o)), ...n.diffs]
      notes = n.notes
    } catch (err) {
      diffs = [`comparing threw: ${(err as Error).stack ?? err}`]
    }
    if (!best || diffs.length < best.diffs.length) best = {index, diffs, notes}
  })
  return best ?? {index: -1, diffs: ['the engine gave no outcome'], notes: []}
}

export function formatKernelNat(k: KernelResult): string {
  const e = (x?: Endpoints) => (x ? `${x.src}${x.sport !== undefined ? `:${x.sport}` : ''} -> ${x.dst}${x.dport !== undefined ? `:${x.dport}` : ''}` : '-')
  const ct = k.ct ? `${k.ct.state}${k.ct.reply ? ' reply' : ''}${k.ct.dnat ? ' DST_NAT' : ''}${k.ct.snat ? ' SRC_NAT' : ''}` : '-'
  return [formatTrace(k), `  final ${e(k.final)}; ct ${ct}`, k.entry ? `  conntrack: ${k.entry.raw}` : '  conntrack: (no NEW event)'].join('\n')
}

export function formatEngineOutcome(o: Outcome, i: number): string {
  const e = (x: Endpoints) => `${x.src}${x.sport !== undefined ? `:${x.sport}` : ''} -> ${x.dst}${x.dport !== undefined ? `:${x.dport}` : ''}`
  const ct = o.final.ct
  const status = ct ? `${ct.state}${ct.dir === 'REPLY' ? ' reply' : ''}${ct.status & CT_STATUS.DST_NAT ? ' DST_NAT' : ''}${ct.status & CT_STATUS.SRC_NAT ? ' SRC_NAT' : ''}` : String(ct)
  const nat = o.steps.filter((s) => s.type === 'nat' && s.kind !== 'null').map((s) => `  nat: ${(s as {text: string}).text}`)
  return [
    `outcome ${i} (p=${o.num}/${o.den}):`,
    formatTrace(fromEngine('', o)),
    `  final ${e(ends(o.final))}; ct ${status}`,
    ct ? `  conntrack: ${e(ends(ct.orig))} ⇄ ${e(ends(ct.reply))}` : '',
    ...nat,
  ].filter(Boolean).join('\n')
}
