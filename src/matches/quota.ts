/**
 * `-m quota [!] --quota BYTES` (net/netfilter/xt_quota.c): matches while the remaining byte quota covers the packet
 * (then subtracts its length); `!` inverts. iptables-save prints the configured quota, not what is left, so the
 * answer is an assumption (assume.underLimit, default: within) — except that a packet longer than the whole quota
 * can never fit.
 */
import {OptionError, type MatchKind} from './types.ts'
import {optionTable, required, value} from './util/options.ts'
import {underLimit} from './util/assume.ts'
import {withNegation} from './util/negate.ts'

export interface QuotaSpec {
  quota: bigint
  invert: boolean
  text: string
}

const table = optionTable({quota: 1})

export const quota: MatchKind<QuotaSpec> = {
  name: 'quota',
  options: table.names,
  parse(opts) {
    const q = required(table.read(opts), 'quota')
    if (!/^\d+$/.test(value(q)) || BigInt(value(q)) > 0xffffffffffffffffn) throw new OptionError(`${q.text}: bad byte count`)
    return {quota: BigInt(value(q)), invert: q.negated, text: q.text}
  },
  eval(spec, ctx) {
    if (BigInt(ctx.pkt.length) > spec.quota) return {ok: spec.invert, detail: `the packet's ${ctx.pkt.length} bytes exceed the whole quota of ${spec.quota}`}
    const a = underLimit(ctx, `quota ${spec.quota} bytes`)
    return {ok: a.within !== spec.invert, assumed: a.assumed, detail: `${a.within ? 'enough' : 'not enough'} quota left for ${ctx.pkt.length} bytes (${a.assumed})`}
  },
  explain(spec, _ctx, ok, detail) {
    return withNegation(detail ?? `quota ${spec.quota}`, spec.invert, ok, spec.text)
  },
}
