/**
 * Wording shared by the matches whose answer rests on state a snapshot cannot hold (rate limiters, quotas,
 * connection counts): the assumption comes from the packet spec's `assume`, or a documented default, and the
 * explanation always says which and how to override it.
 */
import type {EvalContext} from '../../engine/state.ts'

/** `assume.underLimit` (default true: one packet is within any limit), with the words that say where it came from. */
export function underLimit(ctx: EvalContext, what: string): {within: boolean; assumed: string} {
  const given = ctx.pkt.assume.underLimit
  const within = given ?? true
  const source = given === undefined ? 'default for a single packet; set assume.underLimit=false to try the other case' : 'from assume.underLimit'
  return {within, assumed: `${what}: assumed ${within ? 'within' : 'over'} the limit (${source})`}
}
