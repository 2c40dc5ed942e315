/**
 * `-m iprange [!] --src-range a-b [!] --dst-range a-b`: inclusive ranges, source tested first; a reversed range
 * never matches (net/netfilter/xt_iprange.c iprange_mt4/6).
 */
import {compareAddr, type Family, type IpAddr} from '../net/addr.ts'
import {OptionError, type MatchKind, type OptionArg} from './types.ts'
import {addressOf} from './util/address.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {is} from './util/negate.ts'
import {optionTable, value} from './util/options.ts'

const table = optionTable({'src-range': 1, 'dst-range': 1})

function parseRangeAddrs(o: OptionArg, family: Family): [IpAddr, IpAddr] {
  const parts = value(o).split('-')
  if (parts.length !== 2) throw new OptionError(`${o.text}: expects FROM-TO`)
  return [addressOf(parts[0]!, family, o.text), addressOf(parts[1]!, family, o.text)]
}

function rangeCheck(o: OptionArg, family: Family, field: 'src' | 'dst', label: string): Check {
  const [lo, hi] = parseRangeAddrs(o, family)
  return optionCheck(o, ({pkt}) => compareAddr(pkt[field], lo) >= 0 && compareAddr(pkt[field], hi) <= 0,
    ({pkt}, fact) => `${label} ${pkt[field].text} ${is(fact)} in ${lo.text}-${hi.text}`)
}

export const iprange: MatchKind<Check[]> = {
  name: 'iprange',
  options: table.names,
  parse(opts, pctx) {
    const m = table.read(opts)
    const src = m.get('src-range')
    const dst = m.get('dst-range')
    if (!src && !dst) throw new OptionError('iprange needs --src-range or --dst-range')
    return [
      ...(src ? [rangeCheck(src, pctx.family, 'src', 'source')] : []),
      ...(dst ? [rangeCheck(dst, pctx.family, 'dst', 'destination')] : []),
    ]
  },
  eval: runChecks,
  explain: explainChecks,
}
