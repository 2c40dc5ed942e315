/**
 * `-m icmp --icmp-type` and `-m icmp6 --icmpv6-type`: type and code range, by number, `type/code` or name
 * (names from iptables extensions/libxt_icmp.h; a unique prefix is accepted, as its strncasecmp lookup does).
 * Kernel test: (test_type == 0xFF || (type == test_type && code in [min, max])) ^ invert, and no match at all
 * for a non-first fragment (net/ipv4/netfilter/ip_tables.c icmp_match; ip6_tables.c icmp6_match has no 0xFF "any").
 */
import type {EvalContext} from '../../engine/state.ts'
import {OptionError, type MatchKind} from '../types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './checks.ts'
import {optionTable, value} from './options.ts'
import {parseUint} from './numbers.ts'
import {l4Header} from './ports.ts'

/** name → [type, code min, code max]. */
type Names = Record<string, readonly [number, number, number]>

const ALL = 0xff

export const ICMP_NAMES: Names = {
  'any': [ALL, 0, ALL],
  'echo-reply': [0, 0, ALL], 'pong': [0, 0, ALL],
  'destination-unreachable': [3, 0, ALL], 'network-unreachable': [3, 0, 0], 'host-unreachable': [3, 1, 1],
  'protocol-unreachable': [3, 2, 2], 'port-unreachable': [3, 3, 3], 'fragmentation-needed': [3, 4, 4],
  'source-route-failed': [3, 5, 5], 'network-unknown': [3, 6, 6], 'host-unknown': [3, 7, 7],
  'network-prohibited': [3, 9, 9], 'host-prohibited': [3, 10, 10], 'TOS-network-unreachable': [3, 11, 11],
  'TOS-host-unreachable': [3, 12, 12], 'communication-prohibited': [3, 13, 13],
  'host-precedence-violation': [3, 14, 14], 'precedence-cutoff': [3, 15, 15],
  'source-quench': [4, 0, ALL],
  'redirect': [5, 0, ALL], 'network-redirect': [5, 0, 0], 'host-redirect': [5, 1, 1],
  'TOS-network-redirect': [5, 2, 2], 'TOS-host-redirect': [5, 3, 3],
  'echo-request': [8, 0, ALL], 'ping': [8, 0, ALL],
  'router-advertisement': [9, 0, ALL], 'router-solicitation': [10, 0, ALL],
  'time-exceeded': [11, 0, ALL], 'ttl-exceeded': [11, 0, ALL], 'ttl-zero-during-transit': [11, 0, 0],
  'ttl-zero-during-reassembly': [11, 1, 1],
  'parameter-problem': [12, 0, ALL], 'ip-header-bad': [12, 0, 0], 'required-option-missing': [12, 1, 1],
  'timestamp-request': [13, 0, ALL], 'timestamp-reply': [14, 0, ALL],
  'address-mask-request': [17, 0, ALL], 'address-mask-reply': [18, 0, ALL],
}

export const ICMPV6_NAMES: Names = {
  'destination-unreachable': [1, 0, ALL], 'no-route': [1, 0, 0], 'communication-prohibited': [1, 1, 1],
  'beyond-scope': [1, 2, 2], 'address-unreachable': [1, 3, 3], 'port-unreachable': [1, 4, 4],
  'failed-policy': [1, 5, 5], 'reject-route': [1, 6, 6],
  'packet-too-big': [2, 0, ALL],
  'time-exceeded': [3, 0, ALL], 'ttl-exceeded': [3, 0, ALL], 'ttl-zero-during-transit': [3, 0, 0],
  'ttl-zero-during-reassembly': [3, 1, 1],
  'parameter-problem': [4, 0, ALL], 'bad-header': [4, 0, 0], 'unknown-header-type': [4, 1, 1], 'unknown-option': [4, 2, 2],
  'echo-request': [128, 0, ALL], 'ping': [128, 0, ALL], 'echo-reply': [129, 0, ALL], 'pong': [129, 0, ALL],
  'router-solicitation': [133, 0, ALL], 'router-advertisement': [134, 0, ALL],
  'neighbour-solicitation': [135, 0, ALL], 'neighbor-solicitation': [135, 0, ALL],
  'neighbour-advertisement': [136, 0, ALL], 'neighbor-advertisement': [136, 0, ALL],
  'redirect': [137, 0, ALL],
}

interface TypeSpec {
  readonly type: number
  readonly min: number
  readonly max: number
  /** The name, when the rule's value has one (`echo-request`), for explanations. */
  readonly name?: string
}

function parseType(text: string, names: Names): TypeSpec {
  const lower = text.toLowerCase()
  const hits = Object.keys(names).filter((n) => n.toLowerCase().startsWith(lower))
  if (hits.length > 1) throw new OptionError(`ambiguous ICMP type ${JSON.stringify(text)}: ${hits.join(' or ')}`)
  if (hits.length === 1) {
    const [type, min, max] = names[hits[0]!]!
    return {type, min, max, name: hits[0]!}
  }
  const [t, c, extra] = text.split('/')
  if (extra !== undefined) throw new OptionError(`invalid ICMP type ${JSON.stringify(text)}`)
  const type = parseUint(t!, 255, 'ICMP type')
  if (c === undefined) return {type, min: 0, max: ALL}
  const code = parseUint(c, 255, 'ICMP code')
  return {type, min: code, max: code}
}

function typeText(s: TypeSpec): string {
  const num = s.type === ALL ? 'any' : s.min === 0 && s.max === ALL ? `type ${s.type}` : s.min === s.max ? `type ${s.type} code ${s.min}` : `type ${s.type} codes ${s.min}-${s.max}`
  return s.name && s.name !== 'any' ? `${s.name} (${num})` : num
}

export function icmpMatch(name: string, option: string, proto: number, family: 4 | 6, names: Names): MatchKind<Check[]> {
  const table = optionTable({[option]: 1})
  const hasAny = family === 4
  return {
    name,
    options: table.names,
    parse(opts, pctx) {
      if (pctx.family !== family) throw new OptionError(`${name} is an IPv${family} match`)
      if (pctx.proto !== proto) throw new OptionError(`${name} needs -p ${name === 'icmp' ? 'icmp' : 'icmpv6'}`)
      const o = table.read(opts).get(option)
      // libipt_icmp initialises the type to 0xFF: `-m icmp` alone matches any type.
      const s = o ? parseType(value(o), names) : {type: ALL, min: 0, max: ALL}
      const head = l4Header(proto)
      if (!o) return [head]
      const test = hasAny && s.type === ALL
        ? () => true
        : (ctx: EvalContext) => ctx.pkt.icmpType === s.type && (ctx.pkt.icmpCode ?? 0) >= s.min && (ctx.pkt.icmpCode ?? 0) <= s.max
      return [head, optionCheck(o, test, ({pkt}, fact) => `${name} type ${pkt.icmpType} code ${pkt.icmpCode ?? 0} ${fact ? 'is' : 'is not'} ${typeText(s)}`)]
    },
    eval: runChecks,
    explain: explainChecks,
  }
}
