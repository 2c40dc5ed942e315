/** Short texts shared by the human and JSON views. */
import {protoName, tcpFlagsText, PROTO} from '../model/packet.ts'
import type {PacketSpec} from '../model/packet.ts'
import type {PacketState} from '../engine/state.ts'
import type {MatchStep, StepEvent} from '../engine/events.ts'
import {evalMatches} from '../engine/walk.ts'
import type {EvalContext} from '../engine/state.ts'
import {hostPort} from '../engine/nat.ts'

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`
}

/** Port ranges a NAT left open (the kernel picks in them): shown instead of a port. */
export interface PortRanges {
  sport?: [number, number]
  dport?: [number, number]
}

/** The ranges the path's NAT steps report (`--random-fully`, `--to-ports a-b`, …). */
export function portRanges(steps: readonly StepEvent[]): PortRanges {
  const r: PortRanges = {}
  for (const s of steps) {
    if (s.type !== 'nat' || !s.portRange) continue
    if (s.kind === 'dnat' || s.kind === 'redirect') r.dport = s.portRange
    else r.sport = s.portRange
  }
  return r
}

function endpoint(a: PacketState['src'], port: number | undefined, range: [number, number] | undefined): string {
  return range ? `${a.family === 6 ? `[${a.text}]` : a.text}:${range[0]}-${range[1]}` : hostPort(a, port)
}

export function packetLine(p: PacketSpec | PacketState, ranges: PortRanges = {}): string {
  const where = p.local ? 'local' : `in ${p.iif}`
  const extra: string[] = []
  if (p.proto === PROTO.tcp && p.tcpFlags !== undefined) extra.push(`flags ${tcpFlagsText(p.tcpFlags)}`)
  if (p.icmpType !== undefined) extra.push(`icmp-type ${p.icmpType}/${p.icmpCode ?? 0}`)
  if (p.mark) extra.push(`mark ${hex(p.mark)}`)
  return `${protoName(p.proto)} ${endpoint(p.src, p.sport, ranges.sport)} > ${endpoint(p.dst, p.dport, ranges.dport)} ${where}${extra.length ? ` (${extra.join(', ')})` : ''}`
}

/** The reason of a match as its module words it, plus any assumption. */
export function matchReason(step: MatchStep, ctx: EvalContext): string {
  const m = step.match
  let text: string
  try {
    text = m.kind.explain(m.spec, ctx, step.ok, step.detail)
  } catch (e) {
    text = `(no explanation: ${(e as Error).message})`
  }
  return step.assumed && !text.includes(step.assumed) && !/assum/i.test(text) ? `${text} [assumed: ${step.assumed}]` : text
}

/** The rules of a `skip` step as ordinary not-matched rule steps (their header matches are pure, so re-evaluating is exact). */
export function expandSkip(e: Extract<StepEvent, {type: 'skip'}>): Extract<StepEvent, {type: 'rule'}>[] {
  const out: Extract<StepEvent, {type: 'rule'}>[] = []
  for (let i = e.from; i <= e.to; i++) {
    const rule = e.rules[i]
    const {steps} = evalMatches(rule, e.ctx)
    out.push({type: 'rule', family: e.family, hook: e.hook, table: e.table, chain: e.chain, rule, matched: false, matches: steps, verdict: 'CONTINUE', effects: [], ctx: e.ctx})
  }
  return out
}
