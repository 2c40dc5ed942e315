/**
 * `-m addrtype [!] --src-type LIST [!] --dst-type LIST [--limit-iface-in|--limit-iface-out]`
 * (net/netfilter/xt_addrtype.c, revision 1). Source first, then destination.
 * IPv4: the address's route type in the local table (inet_dev_addr_type(), Router.addrType) must be one of the
 * listed types. IPv6 (match_type6): every listed address class among MULTICAST/UNICAST/UNSPEC must hold, and if
 * LOCAL/ANYCAST/UNREACHABLE are listed one of them must come out of a route lookup of the address (RTF_LOCAL,
 * anycast, RTF_REJECT); BROADCAST, BLACKHOLE and PROHIBIT and above are refused for IPv6 (addrtype_mt_checkentry).
 */
import {RTN, type EvalContext} from '../engine/state.ts'
import type {IpAddr} from '../net/addr.ts'
import {OptionError, type MatchKind, type OptionArg} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {noNegation, optionTable, value} from './util/options.ts'

const table = optionTable({'src-type': 1, 'dst-type': 1, 'limit-iface-in': 0, 'limit-iface-out': 0})

type TypeName = keyof typeof RTN
const NAMES = Object.keys(RTN) as TypeName[]
const bit = (n: TypeName): number => 1 << RTN[n]

function parseTypes(o: OptionArg, family: 4 | 6): number {
  let mask = 0
  for (const n of value(o).split(',')) {
    const name = n.toUpperCase() as TypeName
    if (!NAMES.includes(name)) throw new OptionError(`unknown address type ${JSON.stringify(n)}`)
    if (family === 6 && (name === 'BROADCAST' || name === 'BLACKHOLE' || RTN[name] >= RTN.PROHIBIT)) {
      throw new OptionError(`IPv6 ${name} matching is not supported by the kernel`)
    }
    mask |= bit(name)
  }
  return mask
}

function typesText(mask: number): string {
  return NAMES.filter((n) => mask & bit(n)).join(',')
}

/** IPv6 address classes of ipv6_addr_type() that the match reads (net/ipv6/addrconf_core.c). */
function v6Class(a: IpAddr): number {
  const b = a.bytes
  if (b[0] === 0xff) return bit('MULTICAST')
  if (b.every((x) => x === 0)) return bit('UNSPEC')
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff
  return mapped ? 0 : bit('UNICAST')
}

/** IPv6 route-lookup types (match_lookup_rt6): local, anycast, or a reject route (or no route) as UNREACHABLE. */
function v6Lookup(ctx: EvalContext, a: IpAddr, dev: string | undefined): number {
  const r = ctx.world.router.lookup({family: 6, dst: a, mark: 0, tos: 0, ...(dev ? {oif: dev} : {})})
  let t = r.type === 'local' ? bit('LOCAL') : ['unreachable', 'prohibit', 'blackhole', 'none'].includes(r.type) ? bit('UNREACHABLE') : 0
  if (ctx.world.router.addrType(a, dev) === RTN.ANYCAST) t |= bit('ANYCAST')
  return t
}

const V6_CLASSES = bit('MULTICAST') | bit('UNICAST') | bit('UNSPEC')
const V6_LOOKUP = bit('LOCAL') | bit('ANYCAST') | bit('UNREACHABLE')

/** The types the address has, as a mask (IPv4: one type; IPv6: its class plus the lookup result if needed). */
function typesOf(ctx: EvalContext, a: IpAddr, dev: string | undefined, mask: number): number {
  if (a.family === 4) return 1 << ctx.world.router.addrType(a, dev)
  return v6Class(a) | (mask & V6_LOOKUP ? v6Lookup(ctx, a, dev) : 0)
}

function holds(family: 4 | 6, has: number, mask: number): boolean {
  if (family === 4) return (has & mask) !== 0
  if ((mask & V6_CLASSES & ~has) !== 0) return false
  return (mask & V6_LOOKUP) === 0 || (has & mask & V6_LOOKUP) !== 0
}

function typeCheck(o: OptionArg, family: 4 | 6, field: 'src' | 'dst', label: string, dev: (ctx: EvalContext) => string | undefined): Check {
  const mask = parseTypes(o, family)
  const has = (ctx: EvalContext): number => typesOf(ctx, ctx.pkt[field], dev(ctx), mask)
  const classes = mask & V6_CLASSES
  const note = family === 6 && (classes & (classes - 1)) !== 0 ? ' (IPv6: every listed class must hold)' : ''
  return optionCheck(o, (ctx) => holds(family, has(ctx), mask), (ctx, fact) => {
    const d = dev(ctx)
    return `${label} ${ctx.pkt[field].text} is ${typesText(has(ctx)) || 'of no listed type'}${d ? ` (on ${d})` : ''}, ${fact ? 'which matches' : 'which does not match'} ${typesText(mask)}${note}`
  })
}

export const addrtype: MatchKind<Check[]> = {
  name: 'addrtype',
  options: table.names,
  parse(opts, pctx) {
    const m = table.read(opts)
    const inIf = m.get('limit-iface-in')
    const outIf = m.get('limit-iface-out')
    for (const o of [inIf, outIf]) if (o) noNegation(o)
    if (inIf && outIf) throw new OptionError('--limit-iface-in and --limit-iface-out cannot be combined')
    if (inIf && ['OUTPUT', 'POSTROUTING'].includes(pctx.chain)) throw new OptionError(`--limit-iface-in is not valid in ${pctx.chain}`)
    if (outIf && ['PREROUTING', 'INPUT'].includes(pctx.chain)) throw new OptionError(`--limit-iface-out is not valid in ${pctx.chain}`)
    const dev = inIf ? (ctx: EvalContext) => ctx.pkt.iif : outIf ? (ctx: EvalContext) => ctx.pkt.oif : () => undefined
    const src = m.get('src-type')
    const dst = m.get('dst-type')
    if (!src && !dst) throw new OptionError('addrtype needs --src-type or --dst-type')
    return [
      ...(src ? [typeCheck(src, pctx.family, 'src', 'source', dev)] : []),
      ...(dst ? [typeCheck(dst, pctx.family, 'dst', 'destination', dev)] : []),
    ]
  },
  eval: runChecks,
  explain: explainChecks,
}
