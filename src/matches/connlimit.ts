/**
 * `-m connlimit` (net/netfilter/xt_connlimit.c): counts conntrack entries per (masked) source or destination address;
 * matches when the count is above the limit (`--connlimit-above`), or at most the limit (`--connlimit-upto`, saved
 * as is, the kernel's XT_CONNLIMIT_INVERT). The count is not in a snapshot: assume.underLimit (default: within).
 */
import {OptionError, type MatchKind} from './types.ts'
import {noNegation, optionTable, value} from './util/options.ts'
import {parseUint} from './util/numbers.ts'
import {underLimit} from './util/assume.ts'

export interface ConnlimitSpec {
  /** Match when count > limit (above) or count <= limit (upto). */
  above: boolean
  limit: number
  key: string
}

const table = optionTable({'connlimit-above': 1, 'connlimit-upto': 1, 'connlimit-mask': 1, 'connlimit-saddr': 0, 'connlimit-daddr': 0})

export const connlimit: MatchKind<ConnlimitSpec> = {
  name: 'connlimit',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    const ab = o.get('connlimit-above')
    const up = o.get('connlimit-upto')
    if (!!ab === !!up) throw new OptionError('give one of --connlimit-above or --connlimit-upto')
    const lim = (ab ?? up)!
    for (const x of o.values()) if (x !== lim) noNegation(x)
    // `! --connlimit-above` is --connlimit-upto and the other way round (libxt_connlimit.c).
    const above = !!ab !== lim.negated
    const mask = o.get('connlimit-mask') ? value(o.get('connlimit-mask')!) : 'host'
    return {above, limit: parseUint(value(lim), 0xffffffff, lim.text), key: `${o.has('connlimit-daddr') ? 'destination' : 'source'} address /${mask}`}
  },
  eval(spec, ctx) {
    const a = underLimit(ctx, `connlimit (connections per ${spec.key} ${spec.above ? '>' : '<='} ${spec.limit})`)
    return {ok: spec.above ? !a.within : a.within, assumed: a.assumed}
  },
  explain(spec, ctx, ok) {
    return `connections per ${spec.key} ${ok ? 'are' : 'are not'} ${spec.above ? 'above' : 'at most'} ${spec.limit} — ${underLimit(ctx, 'connection count').assumed}`
  },
}
