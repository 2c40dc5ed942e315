/**
 * A match as a list of tests, each one kernel test `expr ^ invert` (xt_tcpudp.c, xt_conntrack.c, … are all written
 * this way): evaluation stops at the first failing test, like the kernel's `return false`. The same tests give the
 * explanation, so the sentence can never disagree with the result. Tests are closures built once at parse time
 * over pre-parsed values, so a per-packet evaluation is a few calls and compares.
 */
import type {EvalContext} from '../../engine/state.ts'
import type {MatchVerdict, OptionArg} from '../types.ts'
import {withNegation} from './negate.ts'

export interface Check {
  /** The test before negation. */
  readonly test: (ctx: EvalContext) => boolean
  readonly negated: boolean
  /** The option as written (`! --dport 80:90`), for the negation wording. */
  readonly text: string
  /** The fact for this packet in words (`fact` = what test returned): `dport 443 is not in 80:90`. */
  readonly say: (ctx: EvalContext, fact: boolean) => string
  /** For tests that rest on state the snapshot cannot hold: the assumption made for this packet, else undefined. */
  readonly assumed?: (ctx: EvalContext) => string | undefined
  /** A precondition (the packet has the header the match reads): only named when it fails. */
  readonly quiet?: boolean
}

/** A check for one option: its negation and text come from the option. */
export function optionCheck(o: OptionArg, test: Check['test'], say: Check['say'], assumed?: Check['assumed']): Check {
  return assumed ? {test, say, assumed, negated: o.negated, text: o.text} : {test, say, negated: o.negated, text: o.text}
}

/** A precondition that `!` does not invert (a non-first fragment has no ports to compare: xt_tcpudp.c). */
export function precondition(test: Check['test'], say: Check['say']): Check {
  return {test, say, negated: false, text: '', quiet: true}
}

export function runChecks(checks: readonly Check[], ctx: EvalContext): MatchVerdict {
  let assumed: string | undefined
  for (const c of checks) {
    if (c.assumed) {
      const a = c.assumed(ctx)
      if (a) assumed = assumed ? `${assumed}; ${a}` : a
    }
    if (c.test(ctx) === c.negated) return assumed ? {ok: false, assumed} : false
  }
  return assumed ? {ok: true, assumed} : true
}

function sentence(c: Check, ctx: EvalContext): string {
  const fact = c.test(ctx)
  return withNegation(c.say(ctx, fact), c.negated, fact !== c.negated, c.text)
}

/** On failure: the failing test; on success: every test, in order. */
export function explainChecks(checks: readonly Check[], ctx: EvalContext, ok: boolean): string {
  if (!ok) {
    const failed = checks.find((c) => c.test(ctx) === c.negated)
    return failed ? sentence(failed, ctx) : 'no test failed'
  }
  const parts = checks.filter((c) => !c.quiet).map((c) => sentence(c, ctx))
  return parts.length ? parts.join('; ') : 'no conditions: matches every packet'
}
