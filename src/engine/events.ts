/**
 * The step events: the engine's whole output. `trace`, `explain`, the JSON contract, the REPL and the TUI are
 * views over this stream (Batfish-style: a trace is a list of typed steps).
 */
import type {Family} from '../net/addr.ts'
import type {HookName, Rule} from '../model/ruleset.ts'
import type {Effect, Verdict} from '../targets/types.ts'
import type {MatchInstance} from '../matches/types.ts'
import type {EvalContext, PacketState, RouteResult} from './state.ts'

/** One match of one rule as evaluated. Matches after the first failing one are not evaluated (like the kernel). */
export interface MatchStep {
  match: MatchInstance
  ok: boolean
  /** Set when the result rests on an assumption about state the snapshot does not hold, or on an unmodelled match. */
  assumed?: string
  detail?: string
}

interface Where {
  family: Family
  hook: HookName
  table: string
  chain: string
}

export type StepEvent =
  | {type: 'hook'; family: Family; hook: HookName; entries: string[]}
  | ({type: 'chain'; via: 'hook' | 'jump' | 'goto'} & Where)
  | ({
      type: 'rule'
      rule: Rule
      matched: boolean
      /** Evaluated matches in order; when not matched the last one is the one that failed. */
      matches: MatchStep[]
      verdict: Verdict
      /** Chain name for JUMP/GOTO. */
      target?: string
      effects: Effect[]
      /** The context the rule was evaluated in (for explanations rendered later). */
      ctx: EvalContext
    } & Where)
  /**
   * Rules `from`..`to` (0-based, inclusive) of a long chain that cannot match because their `-d` names another host
   * (engine/chain-index.ts). The kernel evaluates them; views expand them into not-matched rules on demand.
   */
  | ({type: 'skip'; rules: readonly Rule[]; from: number; to: number; ctx: EvalContext} & Where)
  | ({type: 'return'; implicit: boolean; to?: string} & Where)
  | ({type: 'policy'; verdict: 'ACCEPT' | 'DROP'} & Where)
  /** A whole table/base chain finished at this hook with this verdict (ACCEPT lets the next entry run). */
  | ({type: 'table-verdict'; verdict: Verdict} & Where)
  | {type: 'conntrack'; family: Family; hook: HookName; action: string; state: string; text: string}
  /** A NAT translation: from the rule that asked for it (first packet) or from the conntrack entry (later packets). */
  | {type: 'nat'; family: Family; hook: HookName; kind: NatKind; from: string; to: string; table?: string; chain?: string; index?: number; text: string; addrRange?: [string, string]; portRange?: [number, number]}
  | {type: 'route'; family: Family; phase: 'input' | 'output' | 'reroute'; result: RouteResult; text: string}
  | {type: 'branch'; label: string; taken: boolean; num: number; den: number; text: string}
  | {type: 'note'; text: string; level: 'info' | 'warning'}
  | {type: 'disposition'; disposition: Disposition; oif: string | null; text: string; final: PacketState}

export type Disposition = 'local' | 'forward' | 'output' | 'drop' | 'reject' | 'stolen' | 'queue'

export type NatKind = 'dnat' | 'snat' | 'masquerade' | 'redirect' | 'netmap' | 'reverse' | 'null'
