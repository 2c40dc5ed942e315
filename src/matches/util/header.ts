/**
 * The shared shape of the address and interface header matches (-s/-d, -i/-o): one option, one test, negated by `!`
 * (net/ipv4/netfilter/ip_tables.c ip_packet_match, net/ipv6/netfilter/ip6_tables.c ip6_packet_match).
 */
import {cidrContains} from '../../net/addr.ts'
import {OptionError, type MatchKind} from '../types.ts'
import {prefixOf} from './address.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './checks.ts'
import {parseIface, ifaceMatches} from './iface.ts'
import {is} from './negate.ts'
import {optionTable, value} from './options.ts'

/** `-s`/`-d`: (addr & mask) == net, the mask from the prefix (a plain address is /32 or /128). */
export function addressMatch(name: string, letter: string, long: string, field: 'src' | 'dst', label: string): MatchKind<Check[]> {
  const table = optionTable({[letter]: 1}, {[long]: letter})
  return {
    name,
    options: table.names,
    parse(opts, pctx) {
      const o = table.read(opts).get(letter)
      if (!o) throw new OptionError(`-${letter} needs an address`)
      const c = prefixOf(value(o), pctx.family, o.text)
      return [optionCheck(o, (ctx) => cidrContains(c, ctx.pkt[field]), (ctx, fact) => `${label} ${ctx.pkt[field].text} ${is(fact)} in ${c.text}`)]
    },
    eval: runChecks,
    explain: explainChecks,
  }
}

/** `-i`/`-o`, with `+` as a trailing wildcard; a packet without that device has the empty name. */
export function interfaceMatch(name: string, letter: string, long: string, field: 'iif' | 'oif', label: string): MatchKind<Check[]> {
  const table = optionTable({[letter]: 1}, {[long]: letter})
  return {
    name,
    options: table.names,
    parse(opts) {
      const o = table.read(opts).get(letter)
      if (!o) throw new OptionError(`-${letter} needs an interface`)
      const p = parseIface(value(o))
      return [optionCheck(o, (ctx) => ifaceMatches(p, ctx.pkt[field]), (ctx, fact) => {
        const dev = ctx.pkt[field]
        return `${dev === undefined ? `no ${label} (none at ${ctx.hook})` : `${label} ${dev}`} ${fact ? 'matches' : 'does not match'} "${p.text}"`
      })]
    },
    eval: runChecks,
    explain: explainChecks,
  }
}
