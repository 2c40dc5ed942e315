/**
 * Shared by the NAT targets: the `[addr[-addr]][:port[-port]]` range syntax of iptables extensions/libxt_DNAT.c
 * (also used for SNAT, MASQUERADE/REDIRECT `--to-ports`), the request text, and the apply step (verdict ACCEPT
 * plus the request: xt_nat.c hands the range to nf_nat_setup_info(), which the engine models in engine/nat.ts).
 */
import {OptionError, type ParseCtx} from '../matches/types.ts'
import {PROTO} from '../model/packet.ts'
import type {HookName} from '../model/ruleset.ts'
import type {EvalContext} from '../engine/state.ts'
import type {NatRequest, TargetResult} from './types.ts'
import {parseAddrOption, parseUint, placementNotes} from './util.ts'

/**
 * Protocols iptables 1.8.9 accepts a port range with (checked: udplite is refused, icmp accepted: the ICMP id is
 * the "port" of nf_nat_proto.c).
 */
const PORT_PROTOS: readonly number[] = [PROTO.tcp, PROTO.udp, PROTO.sctp, PROTO.dccp, PROTO.icmp, PROTO.icmpv6]

type Range = Pick<NatRequest, 'addrMin' | 'addrMax' | 'portMin' | 'portMax'>

/** `p[-q]` → inclusive range; needs a rule protocol with ports (`-p tcp` …), as iptables checks. */
export function parsePorts(text: string, ctx: ParseCtx): {portMin: number; portMax: number} {
  if (text.includes('/')) throw new OptionError(`port offset ${JSON.stringify(text)} (shifted port mapping) is not modelled`)
  if (ctx.proto === undefined || !PORT_PROTOS.includes(ctx.proto)) throw new OptionError('a port needs -p tcp, udp, sctp or dccp')
  const [lo, hi, extra] = text.split('-')
  if (extra !== undefined || !lo) throw new OptionError(`bad port range ${JSON.stringify(text)}`)
  const portMin = parseUint(lo, 0xffff, 'port')
  const portMax = hi === undefined ? portMin : parseUint(hi, 0xffff, 'port')
  if (portMax < portMin) throw new OptionError(`port range ${text} is reversed`)
  return {portMin, portMax}
}

function addrRange(text: string, ctx: ParseCtx): Range {
  const dash = text.indexOf('-')
  const addrMin = parseAddrOption(dash < 0 ? text : text.slice(0, dash), ctx.family, 'address').text
  return {addrMin, addrMax: dash < 0 ? addrMin : parseAddrOption(text.slice(dash + 1), ctx.family, 'address').text}
}

/**
 * `--to-destination`/`--to-source`: IPv4 `a[-b][:p[-q]]`; IPv6 `[a[-b]]:p[-q]`, or `a[-b]` without port
 * (an unbracketed IPv6 text is all address: `2001:db8::1:80` is one address). `:p` alone keeps the address.
 */
export function parseNatRange(text: string, ctx: ParseCtx): Range {
  let addrPart = text
  let portPart: string | undefined
  if (ctx.family === 6 && text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0) throw new OptionError(`missing ] in ${JSON.stringify(text)}`)
    addrPart = text.slice(1, close)
    const rest = text.slice(close + 1)
    if (rest) {
      if (!rest.startsWith(':')) throw new OptionError(`unexpected ${JSON.stringify(rest)} after ] in ${JSON.stringify(text)}`)
      portPart = rest.slice(1)
    }
  } else if (ctx.family === 4 || /^:[^:]*$/.test(text)) {
    const colon = text.indexOf(':')
    if (colon >= 0) [addrPart, portPart] = [text.slice(0, colon), text.slice(colon + 1)]
  }
  const range: Range = addrPart ? addrRange(addrPart, ctx) : {}
  if (portPart !== undefined) Object.assign(range, parsePorts(portPart, ctx))
  if (!addrPart && portPart === undefined) throw new OptionError('empty range')
  return range
}

function hostText(r: NatRequest, family: 4 | 6): string {
  const a = r.addrMin === undefined ? '' : r.addrMax !== undefined && r.addrMax !== r.addrMin ? `${r.addrMin}-${r.addrMax}` : r.addrMin
  const p = r.portMin === undefined ? '' : r.portMax !== undefined && r.portMax !== r.portMin ? `${r.portMin}-${r.portMax}` : String(r.portMin)
  if (!a) return `port ${p} (address unchanged)`
  if (!p) return a
  return family === 6 ? `[${a}]:${p}` : `${a}:${p}`
}

function portsText(r: NatRequest): string {
  if (r.portMin === undefined) return ''
  return r.portMax !== undefined && r.portMax !== r.portMin ? ` ports ${r.portMin}-${r.portMax}` : ` port ${r.portMin}`
}

/** `DNAT to 10.180.0.1:80`, `MASQUERADE to the output device's address ports 1024-2048 (random-fully)`. */
export function natText(r: NatRequest, family: 4 | 6, hook: HookName): string {
  const flags = [r.random && 'random', r.randomFully && 'random-fully', r.persistent && 'persistent'].filter(Boolean)
  const tail = flags.length ? ` (${flags.join(', ')})` : ''
  switch (r.type) {
    case 'dnat':
    case 'snat':
      return `${r.type.toUpperCase()} to ${hostText(r, family)}${tail}`
    case 'masquerade':
      return `MASQUERADE to the output device's address${portsText(r)}${tail}`
    case 'redirect':
      return `REDIRECT to this host${portsText(r)}${tail}`
    case 'netmap':
      return `NETMAP ${hook === 'PREROUTING' || hook === 'OUTPUT' ? 'destination' : 'source'} onto ${r.prefix} (host bits kept)`
  }
}

/** Where xt_nat.c / xt_MASQUERADE.c / xt_REDIRECT.c / xt_NETMAP.c let each NAT target run (always table nat). */
const HOOKS: Record<NatRequest['type'], readonly HookName[]> = {
  dnat: ['PREROUTING', 'OUTPUT'],
  redirect: ['PREROUTING', 'OUTPUT'],
  snat: ['POSTROUTING', 'INPUT'],
  masquerade: ['POSTROUTING'],
  netmap: ['PREROUTING', 'OUTPUT', 'POSTROUTING', 'INPUT'],
}

const SOURCE: Record<NatRequest['type'], string> = {
  dnat: 'xt_nat.c', snat: 'xt_nat.c', masquerade: 'xt_MASQUERADE.c', redirect: 'xt_REDIRECT.c', netmap: 'xt_NETMAP.c',
}

export function natApply(nat: NatRequest, ctx: EvalContext): TargetResult {
  const notes = placementNotes(ctx, nat.type.toUpperCase(), {table: 'nat', hooks: HOOKS[nat.type]}, SOURCE[nat.type])
  return {verdict: 'ACCEPT', effects: [...notes, {kind: 'nat', nat, text: natText(nat, ctx.family, ctx.hook)}]}
}
