/**
 * The contract of a match module: one file per kind (`-m NAME`, plus the rule header matches -s -d -i -o -p -f),
 * holding its option parsing, its evaluation (pure: context in, result out) and its explanation text.
 * Like the kernel's xt_*.c: a match returns a boolean and nothing else.
 */
import type {Family} from '../net/addr.ts'
import type {EvalContext} from '../engine/state.ts'

/** One option as written in iptables-save: `! --dport 80` → {name: 'dport', values: ['80'], negated: true}. */
export interface OptionArg {
  /** Without leading dashes: `dport`, `match-set`, `s`. */
  name: string
  values: string[]
  /** `!` before the option (new style) or before its value (old style `--dport ! 80`). */
  negated: boolean
  /** The option as written, for messages: `! --dport 80`. */
  text: string
}

export interface ParseCtx {
  family: Family
  table: string
  chain: string
  /** The rule's `-p` protocol number, if any (tcp/udp/multiport need it). */
  proto?: number
}

/** Thrown by parse(); the parser turns it into `file:line: reason`. */
export class OptionError extends Error {}

/**
 * A match result. `true`/`false` for ordinary matches. The object form is for results that rest on an assumption
 * (state the snapshot does not hold) or that need a detail computed at evaluation time (e.g. an nth counter).
 */
export type MatchVerdict = boolean | {ok: boolean; assumed?: string; detail?: string}

export interface MatchKind<S = any> {
  /** The `-m` name (`tcp`, `set`), or for header matches: `src`, `dst`, `in`, `out`, `proto`, `frag`. */
  readonly name: string
  /** Other `-m` names with the same semantics (`state` is not one: it has its own module). */
  readonly aliases?: readonly string[]
  /** Option names this module accepts (without dashes); used to split options between modules. */
  readonly options: readonly string[]
  parse(opts: OptionArg[], ctx: ParseCtx): S
  eval(spec: S, ctx: EvalContext): MatchVerdict
  /** One sentence: why it matched or not (`ok` is the eval result). `detail` is what eval returned, if any. */
  explain(spec: S, ctx: EvalContext, ok: boolean, detail?: string): string
}

export interface MatchInstance<S = any> {
  readonly kind: MatchKind<S>
  readonly spec: S
  /** As written in the rule: `-s 10.0.0.0/8`, `-m tcp --dport 80`. */
  readonly text: string
  /** True when no module knows this `-m` (see matches/unmodelled.ts). */
  readonly unmodelled?: boolean
}
