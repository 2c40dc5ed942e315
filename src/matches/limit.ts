/**
 * `-m limit --limit R/unit [--limit-burst B]` (net/netfilter/xt_limit.c): a token bucket per rule, full (B tokens)
 * when the rule is created, one token per matching packet. Its fill level is not in a snapshot, so the answer is an
 * assumption (assume.underLimit, default: within the limit).
 */
import {OptionError, type MatchKind} from './types.ts'
import {noNegation, optionTable, value} from './util/options.ts'
import {parseUint} from './util/numbers.ts'
import {underLimit} from './util/assume.ts'

export interface LimitSpec {
  rate: string
  burst: number
}

const table = optionTable({limit: 1, 'limit-burst': 1})

/** `N/sec|minute|hour|day` (unit prefixes accepted, as libxt_limit.c parse_rate does); checks the form only. */
export function parseRate(text: string, what: string): string {
  if (!/^\d+(\/(s(e(c(o(n(d)?)?)?)?)?|m(i(n(u(t(e)?)?)?)?)?|h(o(u(r)?)?)?|d(a(y)?)?))?$/.test(text)) throw new OptionError(`${what}: bad rate ${JSON.stringify(text)}`)
  return text
}

export const limit: MatchKind<LimitSpec> = {
  name: 'limit',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    for (const x of o.values()) noNegation(x)
    const l = o.get('limit')
    const b = o.get('limit-burst')
    // libxt_limit.c defaults: 3/hour, burst 5.
    return {rate: l ? parseRate(value(l), '--limit') : '3/hour', burst: b ? parseUint(value(b), 10000, '--limit-burst') : 5}
  },
  eval(spec, ctx) {
    const a = underLimit(ctx, `limit ${spec.rate} burst ${spec.burst}`)
    return {ok: a.within, assumed: a.assumed}
  },
  explain(spec, ctx, ok) {
    return `limit ${spec.rate} (burst ${spec.burst}): ${ok ? 'a token is available' : 'no token left'} — ${underLimit(ctx, 'rate state').assumed}`
  },
}
