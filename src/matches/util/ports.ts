/** Ports and port lists of tcp/udp/sctp/multiport (xt_tcpudp.c, xt_sctp.c, xt_multiport.c), and their checks. */
import type {EvalContext} from '../../engine/state.ts'
import {protoName} from '../../model/packet.ts'
import {OptionError, type OptionArg} from '../types.ts'
import {optionCheck, precondition, type Check} from './checks.ts'
import {value} from './options.ts'
import {inRange, parseRange, rangeSentence, rangeText, type Range} from './range.ts'

/** A port as iptables-save prints it: decimal 0-65535 (iptables also resolves service names; we do not). */
export function parsePort(text: string): number {
  if (!/^\d+$/.test(text)) throw new OptionError(`invalid port ${JSON.stringify(text)} (service names are not resolved)`)
  const n = Number(text)
  if (n > 65535) throw new OptionError(`invalid port ${text}`)
  return n
}

/** `a`, `a:b`, `:b`, `a:` (libxt_tcp/libxt_udp/libxt_sctp; min > max is refused). */
export function parsePortRange(text: string): Range {
  return parseRange(text, 65535, 'port', {reversed: false, one: parsePort})
}

/** Slots of xt_multiport_v1: 15, a range takes two (xt_multiport.h XT_MULTI_PORTS). */
const MULTIPORT_SLOTS = 15

/** multiport's `p1,p2:p3,…`: a range needs both ends (iptables 1.8.9 refuses `:9`). */
export function parsePortList(text: string): Range[] {
  const list = text.split(',').map((t) => {
    const [lo, hi, extra] = t.split(':')
    if (extra !== undefined || lo === '' || hi === '') throw new OptionError(`invalid port range ${JSON.stringify(t)}`)
    const r = {lo: parsePort(lo!), hi: hi === undefined ? parsePort(lo!) : parsePort(hi)}
    if (r.lo > r.hi) throw new OptionError(`invalid port range ${JSON.stringify(t)} (min > max)`)
    return r
  })
  const slots = list.reduce((n, r) => n + (r.lo !== r.hi ? 2 : 1), 0)
  if (slots > MULTIPORT_SLOTS) throw new OptionError(`too many ports in ${text} (at most ${MULTIPORT_SLOTS}, a range counts twice)`)
  return list
}

export function inPortList(list: readonly Range[], port: number): boolean {
  for (const r of list) if (port >= r.lo && port <= r.hi) return true
  return false
}

export function portListText(list: readonly Range[]): string {
  return list.map(rangeText).join(',')
}

/**
 * The packet has this protocol's header to read ports/flags/types from. A non-first fragment has none: the kernel
 * then returns false whatever `!` says (xt_tcpudp.c, xt_multiport.c, xt_sctp.c, ip_tables.c icmp_match).
 */
export function l4Header(proto: number): Check {
  const name = protoName(proto)
  return precondition(
    (ctx) => ctx.pkt.proto === proto && !ctx.pkt.fragment,
    ({pkt}) => pkt.fragment ? `the packet is a non-first fragment: it has no ${name} header to match` : `the packet is ${protoName(pkt.proto)}, not ${name}`,
  )
}

/** `[!] --sport/--dport a[:b]`: (port >= min && port <= max) ^ invert (xt_tcpudp.c port_match). */
export function portCheck(o: OptionArg, field: 'sport' | 'dport'): Check {
  const r = parsePortRange(value(o))
  const port = (ctx: EvalContext): number => ctx.pkt[field] ?? 0
  return optionCheck(o, (ctx) => inRange(r, port(ctx)), (ctx, fact) => rangeSentence(field, port(ctx), r, fact))
}
