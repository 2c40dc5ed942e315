/**
 * The engine's driver. A Session holds a snapshot with its load-time indexes and the state the kernel keeps
 * across packets outside conntrack (statistic nth counters). trace() runs the packet once per combination of
 * random decisions (statistic random, …), replaying a prefix of decisions each time, so every branch is a plain
 * deterministic walk and its probability is the exact product of the kernel's thresholds.
 */
import type {Family} from '../net/addr.ts'
import type {PacketSpec} from '../model/packet.ts'
import type {Snapshot, Interface} from '../model/snapshot.ts'
import type {Table} from '../model/ruleset.ts'
import type {Outcome, TraceResult} from './api.ts'
import type {Disposition} from './events.ts'
import type {PacketState, Router} from './state.ts'
import {Run, type RunEnv} from './run.ts'
import {inbound, outbound} from './path.ts'
import {ConntrackTable} from './conntrack.ts'
import {CT_STATUS} from './state.ts'
import type {FlowOrigin} from '../packet/spec.ts'
import {indexChains} from './chain-index.ts'
import {createRouter} from '../snapshot/routing.ts'

export interface TraceOptions {
  /** Follow only this outcome (0-based, in enumeration order) — `--choose N`. */
  choose?: number
  /** Follow one outcome drawn with the kernel's probabilities from this seed — `--seed S`. */
  seed?: number
  /** Upper bound on enumerated branches (kube services have one branch per endpoint). */
  maxOutcomes?: number
}

export function initialState(spec: PacketSpec): PacketState {
  return {
    family: spec.family, proto: spec.proto, src: spec.src, dst: spec.dst, sport: spec.sport, dport: spec.dport,
    tcpFlags: spec.tcpFlags, icmpType: spec.icmpType, icmpCode: spec.icmpCode, icmpId: spec.icmpId, iif: spec.local ? undefined : spec.iif,
    mark: spec.mark >>> 0, length: spec.length, ttl: spec.ttl, tos: spec.tos, srcMac: spec.srcMac,
    pktType: spec.pktType ?? 'unicast', fragment: spec.fragment ?? false, local: spec.local, assume: spec.assume,
  }
}

export class Session {
  readonly router: Router
  private readonly interfaces: Map<string, Interface>
  private readonly conntrack: ConntrackTable
  private counters = new Map<object, number>()
  private readonly customRules: boolean
  private readonly tcpLoose: boolean
  private readonly ownAddrs = new Map<string, string>()
  /** What each packet of this run (by id) left behind, for packets that continue its connection. */
  private flows = new Map<string, FlowOrigin>()

  constructor(readonly snapshot: Snapshot) {
    this.router = createRouter(snapshot)
    this.interfaces = new Map(snapshot.interfaces.map((i) => [i.name, i]))
    this.conntrack = new ConntrackTable(snapshot.conntrack, snapshot.present.has('conntrack'))
    const defaults = new Set(['0 local', '32766 main', '32767 default'])
    this.customRules = snapshot.rules.some((r) => r.family === 4 && !(defaults.has(`${r.priority} ${r.table}`) && r.action === 'lookup' && !r.src && !r.dst && !r.iif && !r.oif && r.fwmark === undefined))
    this.tcpLoose = snapshot.sysctl.get('net.netfilter.nf_conntrack_tcp_loose') !== '0'
    for (const i of snapshot.interfaces) for (const a of i.addrs) if (!this.ownAddrs.has(a.addr.text)) this.ownAddrs.set(a.addr.text, i.name)
    for (const rs of Object.values(snapshot.iptables)) for (const t of rs.tables.values()) indexChains(t.chains.values())
  }

  private tables(family: Family): Map<string, Table> {
    return this.snapshot.iptables[family]?.tables ?? new Map()
  }

  /** The earlier packet `id` of this run, for reply_of / follow_of / related_of (see packet/spec.ts). */
  flow(id: string | number): FlowOrigin | undefined {
    return this.flows.get(String(id))
  }

  private env(spec: PacketSpec, prefix: boolean[]): RunEnv {
    const origin = spec.flow && this.flows.get(String(spec.flow.of))
    return {
      router: this.router, interfaces: this.interfaces, conntrack: this.conntrack, tables: this.tables(spec.family),
      ownAddrs: this.ownAddrs, customRules: this.customRules, tcpLoose: this.tcpLoose,
      sets: this.snapshot.ipsets, sysctl: this.snapshot.sysctl, counters: this.counters, prefix,
      ...(origin ? {flow: {ref: spec.flow!, ct: origin.ct}} : {}),
      ...(spec.ct ? {forcedCt: spec.ct} : {}),
    }
  }

  private runOnce(spec: PacketSpec, prefix: boolean[]): {run: Run; disposition: Disposition} {
    const run = new Run(spec.family, initialState(spec), this.env(spec, prefix))
    const disposition = spec.local ? outbound(run) : inbound(run)
    return {run, disposition}
  }

  trace(spec: PacketSpec, opts: TraceOptions = {}): TraceResult {
    const warnings: string[] = []
    for (const n of this.snapshot.iptables[spec.family]?.notes ?? []) if (n.includes('legacy')) warnings.push(`${n}: their rules also see this packet and are not shown`)
    if (spec.iif && this.snapshot.interfaces.length && !this.router.hasDevice(spec.iif)) {
      warnings.push(`input interface ${spec.iif} is not in the snapshot (it has ${this.snapshot.interfaces.map((i) => i.name).join(', ')}): rules and routing see the name as given`)
    }
    if (!this.snapshot.iptables[spec.family]) warnings.push(`the ${spec.family === 4 ? 'iptables' : 'ip6tables'} rules are unknown (the snapshot has no ${spec.family === 4 ? 'iptables' : 'ip6tables'}-save dump): this IPv${spec.family} packet is traced as if there were none`)
    const max = opts.maxOutcomes ?? 4096
    const runs: {run: Run; disposition: Disposition}[] = []
    const pending: boolean[][] = [[]]
    while (pending.length) {
      const prefix = pending.pop()!
      const r = this.runOnce(spec, prefix)
      runs.push(r)
      // Every decision past the replayed prefix defaulted to `true`; its `false` side is another branch
      // (pushed so that the deepest one is explored first: outcomes come out in rule order).
      const ds = r.run.decisions
      for (let i = prefix.length; i < ds.length; i++) {
        if (ds[i].num > 0 && ds[i].num < ds[i].den) pending.push([...ds.slice(0, i).map((d) => d.taken), false])
      }
      if (runs.length >= max) {
        if (pending.length) warnings.push(`more than ${max} branches: enumeration stopped; probabilities do not sum to 1`)
        break
      }
    }
    let outcomes = runs.map(({run, disposition}) => toOutcome(run, disposition))
    let keep = 0
    if (opts.choose !== undefined) {
      if (opts.choose < 0 || opts.choose >= outcomes.length) throw new RangeError(`--choose ${opts.choose + 1}: this packet has ${outcomes.length} path${outcomes.length === 1 ? '' : 's'} (1-${outcomes.length})`)
      keep = opts.choose
      outcomes = [outcomes[keep]]
    } else if (opts.seed !== undefined) {
      keep = drawOutcome(outcomes, opts.seed)
      outcomes = [outcomes[keep]]
    } else {
      keep = outcomes.reduce((best, o, i, all) => (o.probability > all[best].probability ? i : best), 0)
    }
    // State outside conntrack advances along one path: the chosen one, else the most probable.
    this.counters = runs[keep].run.counters
    if (spec.flow) {
      const origin = this.flows.get(String(spec.flow.of))
      if (origin && origin.paths > 1) warnings.push(`${spec.flow.kind}_of ${JSON.stringify(spec.flow.of)}: that packet had ${origin.paths} possible paths; this follows its path ${origin.path + 1} (${opts.choose === undefined && opts.seed === undefined ? 'the most probable' : 'the chosen one'}); use --choose/--seed on it to follow another`)
    }
    this.remember(spec, runs[keep], runs.length, keep)
    return {spec, warnings, outcomes}
  }

  /**
   * Keeps the connection a packet leaves behind: a new entry only if the packet got to conntrack confirm (a dropped
   * first packet's entry dies with it); a packet of a known flow updates that flow's entry (e.g. SEEN_REPLY).
   */
  private remember(spec: PacketSpec, r: {run: Run; disposition: Disposition}, paths: number, path: number): void {
    const ct = r.run.pkt.ct
    const delivered = r.disposition === 'local' || r.disposition === 'forward' || r.disposition === 'output'
    if (!ct || ct.state === 'UNTRACKED' || !delivered) return
    const last = r.run.events[r.run.events.length - 1]
    const oif = last?.type === 'disposition' ? last.oif : null
    const stored = {...ct, status: ct.status | CT_STATUS.CONFIRMED | (ct.dir === 'REPLY' ? CT_STATUS.SEEN_REPLY : 0)}
    if (spec.flow && spec.flow.kind !== 'related') {
      const origin = this.flows.get(String(spec.flow.of))
      if (origin) origin.ct = {...origin.ct, status: stored.status, mark: stored.mark}
    }
    if (spec.id !== undefined) this.flows.set(String(spec.id), {spec, ct: stored, disposition: r.disposition, oif, paths, path})
  }
}

function toOutcome(run: Run, disposition: Disposition): Outcome {
  let num = 1n
  let den = 1n
  for (const d of run.decisions) {
    num *= BigInt(d.taken ? d.num : d.den - d.num)
    den *= BigInt(d.den)
  }
  const g = gcd(num, den)
  num /= g
  den /= g
  const last = run.events[run.events.length - 1]
  return {
    num, den, probability: Number(num) / Number(den), disposition,
    oif: last?.type === 'disposition' ? last.oif : null, final: run.pkt, steps: run.events, choices: run.decisions.map((d) => d.taken),
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b]
  return a || 1n
}

/** A deterministic draw (mulberry32) weighted by the outcomes' exact probabilities. */
function drawOutcome(outcomes: Outcome[], seed: number): number {
  let t = (seed >>> 0) + 0x6d2b79f5
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  const r = ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  let acc = 0
  for (let i = 0; i < outcomes.length; i++) {
    acc += outcomes[i].probability
    if (r < acc) return i
  }
  return outcomes.length - 1
}
