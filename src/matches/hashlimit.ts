/**
 * `-m hashlimit` (net/netfilter/xt_hashlimit.c): limit's token bucket, one per key built from --hashlimit-mode.
 * `--hashlimit-upto` matches while the key's bucket has tokens, `--hashlimit-above` when it is empty. Bucket state is
 * not in a snapshot: assume.underLimit (default: within the limit).
 */
import {OptionError, type MatchKind} from './types.ts'
import {noNegation, optionTable, required, value} from './util/options.ts'
import {parseRate} from './limit.ts'
import {underLimit} from './util/assume.ts'

export interface HashlimitSpec {
  /** true: --hashlimit-above (match when over the rate). */
  above: boolean
  rate: string
  name: string
  mode: string
}

const table = optionTable(
  {'hashlimit-upto': 1, 'hashlimit-above': 1, 'hashlimit-burst': 1, 'hashlimit-mode': 1, 'hashlimit-name': 1,
    'hashlimit-srcmask': 1, 'hashlimit-dstmask': 1, 'hashlimit-htable-size': 1, 'hashlimit-htable-max': 1,
    'hashlimit-htable-expire': 1, 'hashlimit-htable-gcinterval': 1, 'hashlimit-rate-match': 0, 'hashlimit-rate-interval': 1},
  {hashlimit: 'hashlimit-upto'},
)

export const hashlimit: MatchKind<HashlimitSpec> = {
  name: 'hashlimit',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    for (const x of o.values()) noNegation(x)
    const up = o.get('hashlimit-upto')
    const ab = o.get('hashlimit-above')
    if (!!up === !!ab) throw new OptionError('give one of --hashlimit-upto or --hashlimit-above')
    const name = required(o, 'hashlimit-name')
    return {
      above: !!ab, rate: parseRate(value((up ?? ab)!), '--hashlimit'), name: value(name),
      mode: o.get('hashlimit-mode') ? value(o.get('hashlimit-mode')!) : 'none (one bucket)',
    }
  },
  eval(spec, ctx) {
    const a = underLimit(ctx, `hashlimit ${spec.name} (key: ${spec.mode})`)
    return {ok: spec.above ? !a.within : a.within, assumed: a.assumed}
  },
  explain(spec, ctx, ok) {
    const a = underLimit(ctx, 'bucket state')
    const words = spec.above ? `matches only above ${spec.rate}` : `matches up to ${spec.rate}`
    return `hashlimit ${spec.name} ${words}: ${ok ? 'matches' : 'does not match'} — ${a.assumed}`
  },
}
