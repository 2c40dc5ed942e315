/**
 * The iptables model: tables of chains of rules, as iptables-save prints them (one per family).
 * Semantics of traversal live in engine/; the meaning of each match/target lives in its module.
 */
import type {Family} from '../net/addr.ts'
import type {MatchInstance} from '../matches/types.ts'
import type {TargetInstance} from '../targets/types.ts'

export type TableName = 'raw' | 'mangle' | 'nat' | 'filter' | 'security'
export const TABLE_NAMES: readonly TableName[] = ['raw', 'mangle', 'nat', 'filter', 'security']

export type HookName = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING'
export const HOOK_NAMES: readonly HookName[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']

/** Where the rule came from, for `file:line` messages and the explanation. */
export interface SourceRef {
  file: string
  line: number
}

export interface Rule {
  /** Owning chain name. */
  chain: string
  /** 1-based position in the chain, in iptables-save order (= `iptables -L --line-numbers`). */
  index: number
  /** The rule as iptables-save printed it, from `-A` on (counters stripped). */
  text: string
  source: SourceRef
  counters?: {packets: bigint; bytes: bigint}
  /** In the order the kernel evaluates them: the ipt_ip header part first (-s -d -i -o -p -f), then each -m. */
  matches: MatchInstance[]
  /** No target: a counting rule (matches, then continues). */
  target?: TargetInstance
}

export interface Chain {
  name: string
  builtin: boolean
  /** Built-in chains only: ACCEPT or DROP. */
  policy?: 'ACCEPT' | 'DROP'
  policyCounters?: {packets: bigint; bytes: bigint}
  rules: Rule[]
  source: SourceRef
}

export interface Table {
  name: TableName | string
  family: Family
  chains: Map<string, Chain>
}

/** One family's iptables state: `iptables-save` (4) or `ip6tables-save` (6). */
export interface Ruleset {
  family: Family
  tables: Map<string, Table>
  /** e.g. `iptables-legacy tables present`, or the backend named in the dump header. */
  notes: string[]
}
