/**
 * The contract of a target module: one file per `-j TARGET`, holding option parsing, what it does (returned as
 * effects, never performed in place) and the text that explains it.
 */
import type {EvalContext} from '../engine/state.ts'
import type {OptionArg, ParseCtx} from '../matches/types.ts'

/** What a rule tells the chain walker. JUMP/GOTO come from the jump target; RETURN from -j RETURN. */
export type Verdict = 'CONTINUE' | 'ACCEPT' | 'DROP' | 'REJECT' | 'RETURN' | 'JUMP' | 'GOTO' | 'QUEUE' | 'STOLEN'

/** A change a target makes. The engine applies it; renderers show `text`. */
export type Effect =
  /** skb->mark (`nfmark`) or the connection's mark (`ctmark`): after = (before & ~mask) ^ value. */
  | {kind: 'mark'; field: 'nfmark' | 'ctmark'; op: string; value: number; mask: number; before: number; after: number; text: string}
  /** A header field rewritten in place (tos, dscp, ttl/hl, tcp mss, classify priority, checksum). */
  | {kind: 'header'; field: 'tos' | 'ttl' | 'mss' | 'priority' | 'checksum'; before?: number; after?: number; text: string}
  /** Conntrack template: notrack, zone, helper, timeout policy (only meaningful before conntrack runs). */
  | {kind: 'ct'; notrack?: boolean; zone?: number; helper?: string; text: string}
  /** ipset add/del: changes the set for the rest of this packet's path. `key` is the element derived from the packet. */
  | {kind: 'set'; op: 'add' | 'del'; set: string; dirs: ('src' | 'dst')[]; text: string}
  /** Logging / tracing side effects (LOG, NFLOG, TRACE, NFQUEUE copy): nothing changes for the packet. */
  | {kind: 'log'; text: string}
  /** A packet sent back by REJECT. */
  | {kind: 'reject'; with: string; text: string}
  /**
   * A NAT target's request (DNAT/SNAT/MASQUERADE/REDIRECT/NETMAP). The engine turns it into a conntrack mapping:
   * address choice for MASQUERADE/REDIRECT needs routing and interfaces, which targets do not see.
   */
  | {kind: 'nat'; nat: NatRequest; text: string}
  /** Anything else worth saying, including unmodelled targets and the assumption made. */
  | {kind: 'note'; text: string; unmodelled?: boolean}

export interface TargetResult {
  verdict: Verdict
  effects: Effect[]
}

export interface TargetKind<S = any> {
  /** The `-j` name. */
  readonly name: string
  readonly options: readonly string[]
  parse(opts: OptionArg[], ctx: ParseCtx): S
  apply(spec: S, ctx: EvalContext): TargetResult
}

export interface TargetInstance<S = any> {
  readonly kind: TargetKind<S>
  readonly spec: S
  /** `-j MARK --set-xmark 0x4000/0x4000`. */
  readonly text: string
  /** `-g` rather than `-j` (only meaningful for chain targets). */
  readonly goto: boolean
  readonly unmodelled?: boolean
}

/** What a NAT target asks for (net/netfilter/xt_nat.c, nf_nat_masquerade.c, nf_nat_redirect.c, xt_NETMAP.c). */
export interface NatRequest {
  type: 'dnat' | 'snat' | 'masquerade' | 'redirect' | 'netmap'
  /** Address range (inclusive), when given (`--to-destination 10.0.0.1-10.0.0.3:80`). */
  addrMin?: string
  addrMax?: string
  /** NETMAP: the prefix to map onto, `10.1.0.0/16`. */
  prefix?: string
  /** Port range (inclusive), when given (`:8080`, `--to-ports 8080-8090`). */
  portMin?: number
  portMax?: number
  random?: boolean
  randomFully?: boolean
  persistent?: boolean
}
