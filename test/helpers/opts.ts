/** Builders for match tests: options from their iptables-save text, and a parsed match to run against contexts. */
import type {EvalContext} from '../../src/engine/state.ts'
import type {MatchKind, OptionArg, ParseCtx} from '../../src/matches/types.ts'

/** `opt('! --dport 80:90')` → {name: 'dport', values: ['80:90'], negated: true, text: '! --dport 80:90'}. */
export function opt(text: string): OptionArg {
  const words = text.split(' ')
  const negated = words[0] === '!'
  const [name, ...values] = negated ? words.slice(1) : words
  return {name: name!.replace(/^--?/, ''), values, negated, text}
}

export interface Outcome {
  ok: boolean
  assumed?: string
  /** The explanation. */
  why: string
}

/**
 * Parses the options (each an iptables-save fragment split on spaces, or an OptionArg for values with spaces) once
 * and returns a runner; the parse context defaults to IPv4, table filter, chain INPUT.
 */
export function matcher<S>(kind: MatchKind<S>, opts: (string | OptionArg)[], p: Partial<ParseCtx> = {}): (ctx: EvalContext) => Outcome {
  const spec = kind.parse(opts.map((o) => (typeof o === 'string' ? opt(o) : o)), {family: 4, table: 'filter', chain: 'INPUT', ...p})
  return (ctx) => {
    const v = kind.eval(spec, ctx)
    const r = typeof v === 'boolean' ? {ok: v} : v
    const why = kind.explain(spec, ctx, r.ok, r.detail)
    return r.assumed === undefined ? {ok: r.ok, why} : {ok: r.ok, assumed: r.assumed, why}
  }
}
