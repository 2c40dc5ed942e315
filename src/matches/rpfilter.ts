/**
 * `-m rpfilter [--loose] [--validmark] [--accept-local] [--invert]` (net/ipv4/netfilter/ipt_rpfilter.c,
 * net/ipv6/netfilter/ip6t_rpfilter.c), raw/mangle PREROUTING: a reverse route lookup towards the packet's source.
 * IPv4: from lo always passes; source 0.0.0.0/8 to 255.255.255.255 or 224.0.0.0/24 passes (DHCP); otherwise look up
 * daddr = saddr, saddr = daddr (none if multicast/broadcast/zero), as a local lookup (flowi4_iif = loopback), with
 * skb->mark only under --validmark. The route must be unicast (or local with --accept-local) and use the input device
 * (any device with --loose). IPv6: `::` passes; strict mode binds the lookup to the input device; reject routes fail.
 * The result is then XORed with --invert.
 */
import type {EvalContext, RouteQuery} from '../engine/state.ts'
import {OptionError, type MatchKind} from './types.ts'
import {noNegation, optionTable} from './util/options.ts'

export interface RpfilterSpec {
  loose: boolean
  validmark: boolean
  acceptLocal: boolean
  invert: boolean
  text: string
}

const table = optionTable({loose: 0, validmark: 0, 'accept-local': 0, invert: 0})

/** IPTOS_RT_MASK (include/uapi/linux/ip.h): the TOS bits routing looks at. */
const IPTOS_RT_MASK = 0x1c

function reverse(spec: RpfilterSpec, ctx: EvalContext): {pass: boolean; why: string} {
  const {pkt} = ctx
  const iif = pkt.iif
  if (iif === undefined) return {pass: false, why: 'the packet has no input device (rpfilter belongs in PREROUTING)'}
  if (iif === 'lo') return {pass: true, why: 'packets from lo always pass'}
  if (pkt.family === 4) {
    const s = pkt.src.v4
    const d = pkt.dst.v4
    if (s >>> 24 === 0 && (d === 0xffffffff || (d & 0xffffff00) >>> 0 === 0xe0000000)) return {pass: true, why: `source ${pkt.src.text} to ${pkt.dst.text} passes (DHCP-style)`}
  } else if (pkt.src.bytes.every((b) => b === 0)) return {pass: true, why: 'source :: passes'}
  const d = pkt.dst
  const noSaddr = pkt.family === 4 && (d.v4 >>> 28 === 0xe || d.v4 === 0xffffffff || d.v4 >>> 24 === 0)
  const q: RouteQuery = {
    family: pkt.family, dst: pkt.src, mark: spec.validmark ? pkt.mark : 0, tos: pkt.tos & IPTOS_RT_MASK,
    ...(noSaddr ? {} : {src: pkt.dst}),
    ...(pkt.family === 6 && !spec.loose ? {oif: iif} : {}),
  }
  const r = ctx.world.router.lookup(q)
  const route = `reverse route to ${pkt.src.text}${spec.validmark ? ` (mark ${pkt.mark})` : ''}: ${r.routeText ?? r.type}${r.dev ? ` dev ${r.dev}` : ''}`
  if (r.type === 'local' && !spec.acceptLocal) return {pass: false, why: `${route} is local and --accept-local is not given`}
  if (r.type !== 'unicast' && r.type !== 'local') return {pass: false, why: `${route} is ${r.type}, not unicast`}
  if (spec.loose) return {pass: true, why: `${route} exists (--loose: any device)`}
  return r.dev === iif ? {pass: true, why: `${route} leaves by the input device ${iif}`} : {pass: false, why: `${route} does not use the input device ${iif}`}
}

export const rpfilter: MatchKind<RpfilterSpec> = {
  name: 'rpfilter',
  options: table.names,
  parse(opts, pctx) {
    const o = table.read(opts)
    for (const x of o.values()) noNegation(x)
    if (pctx.table !== 'raw' && pctx.table !== 'mangle') throw new OptionError(`rpfilter is only valid in the raw and mangle tables, not ${pctx.table}`)
    return {loose: o.has('loose'), validmark: o.has('validmark'), acceptLocal: o.has('accept-local'), invert: o.has('invert'), text: [...o.values()].map((x) => x.text).join(' ')}
  },
  eval(spec, ctx) {
    const r = reverse(spec, ctx)
    return {ok: r.pass !== spec.invert, detail: `${r.why}: reverse path ${r.pass ? 'valid' : 'invalid'}${spec.invert ? ', and --invert makes it ' + (r.pass ? 'not match' : 'match') : ''}`}
  },
  explain: (_spec, _ctx, _ok, detail) => detail ?? 'rpfilter',
}
