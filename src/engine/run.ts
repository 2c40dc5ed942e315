/**
 * One run of one packet along one branch: the current packet state, the world as this run sees it, and the
 * events emitted so far. Branches are separate runs (engine/trace.ts replays choices), so nothing here is shared.
 */
import type {Family} from '../net/addr.ts'
import type {HookName, Table} from '../model/ruleset.ts'
import type {Interface} from '../model/snapshot.ts'
import type {FlowRef, PacketSpec} from '../model/packet.ts'
import type {ConntrackTable} from './conntrack.ts'
import type {IpSet} from '../model/ipset.ts'
import type {Effect} from '../targets/types.ts'
import type {StepEvent} from './events.ts'
import {CT_STATUS, type CtView, type EvalContext, type PacketState, type Router, type World} from './state.ts'

export interface RunEnv {
  router: Router
  interfaces: Map<string, Interface>
  /** Every address configured on a device → the device (inet_lookup_ifaddr_rcu), built once per session. */
  ownAddrs: Map<string, string>
  conntrack: ConntrackTable
  /** ip rules beyond the kernel's defaults exist (fib4_has_custom_rules: source validation then looks up in full). */
  customRules: boolean
  /** nf_conntrack_tcp_loose: a bare ACK may start a connection (default 1). */
  tcpLoose: boolean
  /** iptables tables of this packet's family (empty when the snapshot has no dump for it). */
  tables: Map<string, Table>
  sets: Map<string, IpSet>
  sysctl: Map<string, string>
  /** Counter values as they stand before this packet (statistic nth); the run works on a copy. */
  counters: Map<object, number>
  /** Decisions to replay, then `true` for every new decision (the driver enumerates the rest). */
  prefix: boolean[]
  /** The connection this packet continues (reply_of / follow_of / related_of), from an earlier packet of the run. */
  flow?: {ref: FlowRef; ct: CtView}
  /** `--ct`: the state to use instead of a lookup. */
  forcedCt?: PacketSpec['ct']
}

export interface Decision {
  label: string
  num: number
  den: number
  taken: boolean
}

export class Run {
  readonly events: StepEvent[] = []
  readonly decisions: Decision[] = []
  readonly counters: Map<object, number>
  readonly world: World
  pkt: PacketState
  /** Conntrack template set in raw (CT --zone/--notrack) before conntrack runs. */
  ctTemplate: {notrack?: boolean; zone?: number; helper?: string} = {}
  private sets = new Map<string, IpSet>()
  private ctxCache?: {hook: HookName; table: string; chain: string; pkt: PacketState; ctx: EvalContext}

  constructor(readonly family: Family, pkt: PacketState, readonly env: RunEnv) {
    this.pkt = pkt
    this.counters = new Map(env.counters)
    const run = this
    this.world = {
      router: env.router,
      set: (name) => run.sets.get(name) ?? env.sets.get(name),
      counter: (key, init) => {
        const fresh = !run.counters.has(key)
        if (fresh) run.counters.set(key, init())
        return {get: () => run.counters.get(key)!, set: (v) => void run.counters.set(key, v), fresh}
      },
      choose: (label, num, den) => run.choose(label, num, den),
      sysctl: (key) => env.sysctl.get(key),
    }
  }

  emit(e: StepEvent): void {
    this.events.push(e)
  }

  note(text: string, level: 'info' | 'warning' = 'info'): void {
    this.emit({type: 'note', text, level})
  }

  context(hook: HookName, table: string, chain: string): EvalContext {
    const c = this.ctxCache
    if (c && c.pkt === this.pkt && c.hook === hook && c.table === table && c.chain === chain) return c.ctx
    const ctx: EvalContext = {pkt: this.pkt, family: this.family, hook, table, chain, world: this.world}
    this.ctxCache = {hook, table, chain, pkt: this.pkt, ctx}
    return ctx
  }

  private choose(label: string, num: number, den: number): boolean {
    const i = this.decisions.length
    // A certain outcome is not a branch: no alternative to enumerate.
    const taken = num >= den ? true : num <= 0 ? false : (this.env.prefix[i] ?? true)
    this.decisions.push({label, num, den, taken})
    const pct = ((taken ? num : den - num) / den) * 100
    this.emit({type: 'branch', label, taken, num, den, text: `${label}: ${taken ? 'matched' : 'not matched'} on this branch (p = ${pct.toPrecision(6)} %)`})
    return taken
  }

  update(pkt: Partial<PacketState>): void {
    this.pkt = {...this.pkt, ...pkt}
  }

  updateCt(ct: Partial<CtView>): void {
    if (this.pkt.ct) this.pkt = {...this.pkt, ct: {...this.pkt.ct, ...ct}}
  }

  /** Performs what targets returned; targets themselves never change anything. */
  applyEffects(effects: Effect[], hook: HookName, at: RuleRef): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'mark':
          if (e.field === 'nfmark') this.update({mark: e.after})
          else this.updateCt({mark: e.after})
          break
        case 'header':
          if (e.after === undefined) break
          if (e.field === 'tos') this.update({tos: e.after})
          else if (e.field === 'ttl') this.update({ttl: e.after})
          break
        case 'ct':
          if (this.pkt.ct !== undefined) {
            this.note(`${e.text}: conntrack already ran for this packet (${hook}); the template has no effect`, 'warning')
            break
          }
          this.ctTemplate = {...this.ctTemplate, ...(e.notrack ? {notrack: true} : {}), ...(e.zone !== undefined ? {zone: e.zone} : {}), ...(e.helper ? {helper: e.helper} : {})}
          break
        case 'set': {
          const set = this.world.set(e.set)
          if (!set) {
            this.note(`set ${e.set} is not in the snapshot: ${e.text} changes nothing here`, 'warning')
            break
          }
          this.sets.set(e.set, set.withChange(e.op, this.pkt, e.dirs).set)
          break
        }
        case 'nat':
          this.natRequests.push({at, effect: e})
          break
        default:
          break
      }
    }
  }

  /** NAT targets that matched during this hook's nat table walk, consumed by the NAT core (engine/nat.ts). */
  natRequests: {at: RuleRef; effect: Extract<Effect, {kind: 'nat'}>}[] = []
}

/** Where a rule is: for steps that name the rule that caused them (a NAT binding). */
export interface RuleRef {
  table: string
  chain: string
  index: number
}

export function untracked(pkt: PacketState): CtView {
  const t = {proto: pkt.proto, src: pkt.src, dst: pkt.dst, sport: pkt.sport, dport: pkt.dport}
  return {state: 'UNTRACKED', dir: 'ORIGINAL', status: CT_STATUS.UNTRACKED, mark: 0, zone: 0, orig: t, reply: t, origin: 'untracked template'}
}
