/**
 * The `--json` view: one object per packet, schema `nfstep.trace/1` (documented in README.md — keep it stable;
 * add fields, never rename or remove them).
 */
import type {TraceResult, Outcome} from '../engine/api.ts'
import type {StepEvent} from '../engine/events.ts'
import type {PacketSpec} from '../model/packet.ts'
import type {PacketState} from '../engine/state.ts'
import {protoName, tcpFlagsText} from '../model/packet.ts'
import {expandSkip, hex, matchReason, portRanges} from './describe.ts'
import type {Family} from '../net/addr.ts'

const fam = (f: Family) => (f === 4 ? 'ipv4' : 'ipv6')

function packetJson(p: PacketSpec) {
  return {
    family: fam(p.family), proto: protoName(p.proto), src: p.src.text, dst: p.dst.text, sport: p.sport ?? null, dport: p.dport ?? null,
    in: p.iif ?? null, local: p.local, mark: hex(p.mark), tcp_flags: p.tcpFlags === undefined ? null : tcpFlagsText(p.tcpFlags),
    icmp_type: p.icmpType ?? null, icmp_code: p.icmpCode ?? null, icmp_id: p.icmpId ?? null,
    flow: p.flow ? {kind: p.flow.kind, of: p.flow.of} : null, ct_forced: p.ct ?? null,
  }
}

/**
 * The packet as it leaves. A port the kernel picks at random or from a range is not invented: it is null, and
 * `sport_range` / `dport_range` say where it falls.
 */
function finalJson(p: PacketState, steps: StepEvent[]) {
  const ranges = portRanges(steps)
  const sportRange = ranges.sport ?? null
  const dportRange = ranges.dport ?? null
  return {
    src: p.src.text, dst: p.dst.text, sport: sportRange ? null : (p.sport ?? null), dport: dportRange ? null : (p.dport ?? null),
    sport_range: sportRange, dport_range: dportRange,
    mark: hex(p.mark), ctmark: p.ct ? hex(p.ct.mark) : null, ctstate: p.ct === undefined ? null : (p.ct?.state ?? 'INVALID'),
  }
}

/** A skipped run becomes the not-matched rule objects the contract promises (evaluated now, on demand). */
function stepsJson(e: StepEvent): Record<string, unknown>[] {
  if (e.type !== 'skip') {
    const j = stepJson(e)
    return j ? [j] : []
  }
  return expandSkip(e).map((r) => stepJson(r)!)
}

export function stepJson(e: StepEvent): Record<string, unknown> | undefined {
  switch (e.type) {
    case 'skip':
      return undefined
    case 'rule':
      return {
        type: 'rule', family: fam(e.family), hook: e.hook, table: e.table, chain: e.chain, index: e.rule.index, text: e.rule.text,
        matched: e.matched, verdict: e.verdict, target: e.target ?? null,
        matches: e.matches.map((m) => ({text: m.match.text, result: m.ok, reason: matchReason(m, e.ctx), ...(m.assumed ? {assumed: m.assumed} : {}), ...(m.match.unmodelled ? {unmodelled: true} : {})})),
        effects: e.effects.map(({kind, text, ...rest}) => ({kind, text, ...snakeKeys(numbersToHex(rest))})),
        source: `${e.rule.source.file}:${e.rule.source.line}`,
      }
    case 'policy':
      return {type: 'policy', family: fam(e.family), hook: e.hook, table: e.table, chain: e.chain, verdict: e.verdict}
    case 'return':
      return {type: 'return', family: fam(e.family), hook: e.hook, table: e.table, chain: e.chain, implicit: e.implicit, to: e.to ?? null}
    case 'chain':
      return {type: 'chain', family: fam(e.family), hook: e.hook, table: e.table, chain: e.chain, via: e.via}
    case 'table-verdict':
      return {type: 'table-verdict', family: fam(e.family), hook: e.hook, table: e.table, chain: e.chain, verdict: e.verdict}
    case 'hook':
      return {type: 'hook', family: fam(e.family), hook: e.hook, entries: e.entries}
    case 'route': {
      const r = e.result
      return {
        type: 'route', family: fam(e.family), phase: e.phase, result: r.type, dev: r.dev ?? null, gateway: r.gateway?.text ?? null,
        prefsrc: r.prefsrc?.text ?? null, table: r.table ?? null, route: r.routeText ?? null, rules: r.rules, text: e.text,
      }
    }
    case 'conntrack':
      return {type: 'conntrack', family: fam(e.family), hook: e.hook, action: e.action, state: e.state, text: e.text}
    case 'nat':
      return {
        type: 'nat', family: fam(e.family), hook: e.hook, kind: e.kind, from: e.from, to: e.to, table: e.table ?? null, chain: e.chain ?? null, index: e.index ?? null,
        addr_range: e.addrRange ?? null, port_range: e.portRange ?? null, text: e.text,
      }
    case 'branch':
      return {type: 'branch', label: e.label, taken: e.taken, probability: `${e.taken ? e.num : e.den - e.num}/${e.den}`, text: e.text}
    case 'note':
      return {type: 'note', level: e.level, text: e.text}
    case 'disposition':
      return undefined
  }
}

/** The contract is snake_case throughout; effect payloads come from camelCase model types. */
function snakeKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v && typeof v === 'object' && !Array.isArray(v) ? snakeKeys(v as Record<string, unknown>) : v
  }
  return out
}

function numbersToHex(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) out[k] = typeof v === 'number' && ['value', 'mask', 'before', 'after'].includes(k) && 'field' in o && (o.field === 'nfmark' || o.field === 'ctmark') ? hex(v) : v
  return out
}

function outcomeJson(o: Outcome) {
  const nat = o.steps.filter((s) => s.type === 'nat' && s.kind !== 'null').map((s) => stepJson(s))
  const last = o.steps[o.steps.length - 1]
  return {
    probability: o.probability, probability_exact: `${o.num}/${o.den}`, disposition: o.disposition, oif: o.oif,
    reason: last?.type === 'disposition' ? last.text : null, final: finalJson(o.final, o.steps), nat,
    steps: o.steps.flatMap(stepsJson),
  }
}

export function traceJson(r: TraceResult) {
  return {
    schema: 'nfstep.trace/1', id: r.spec.id ?? null, packet: packetJson(r.spec), warnings: r.warnings,
    outcomes: r.outcomes.map(outcomeJson),
  }
}
