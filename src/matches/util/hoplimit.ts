/**
 * `-m ttl` (IPv4) and `-m hl` (IPv6): one of --X-eq, --X-lt, --X-gt; only --X-eq takes `!` (the kernel's NE mode).
 * net/netfilter/xt_hl.c ttl_mt / hl_mt: ==, !=, <, > against the header's TTL / hop limit.
 */
import {OptionError, type MatchKind} from '../types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './checks.ts'
import {noNegation, optionTable, value} from './options.ts'
import {parseUint} from './numbers.ts'

export function hopLimitMatch(name: 'ttl' | 'hl', family: 4 | 6, label: string): MatchKind<Check[]> {
  const table = optionTable({[`${name}-eq`]: 1, [`${name}-lt`]: 1, [`${name}-gt`]: 1})
  return {
    name,
    options: table.names,
    parse(opts, pctx) {
      if (pctx.family !== family) throw new OptionError(`${name} is an IPv${family} match`)
      const given = [...table.read(opts).values()]
      if (given.length !== 1) throw new OptionError(`${name}: give exactly one of --${name}-eq, --${name}-lt, --${name}-gt`)
      const o = given[0]!
      const mode = o.name.slice(-2)
      if (mode !== 'eq') noNegation(o)
      const n = parseUint(value(o), 255, label)
      const test = mode === 'eq' ? (v: number) => v === n : mode === 'lt' ? (v: number) => v < n : (v: number) => v > n
      const op = mode === 'eq' ? ['is', 'is not'] : mode === 'lt' ? ['is less than', 'is not less than'] : ['is greater than', 'is not greater than']
      return [optionCheck(o, ({pkt}) => test(pkt.ttl), ({pkt}, fact) => `${label} ${pkt.ttl} ${op[fact ? 0 : 1]} ${n}`)]
    },
    eval: runChecks,
    explain: explainChecks,
  }
}
