/**
 * `-j TPROXY --on-port P [--on-ip A] [--tproxy-mark V[/M]]` (mangle PREROUTING, -p tcp/udp only): hands the packet
 * to a local transparent socket without changing its addresses (net/netfilter/xt_TPROXY.c tproxy_tg4/tproxy_tg6,
 * nf_tproxy_ipv4.c). The kernel looks for an established socket of the packet's own tuple, else a listener on
 * (on-ip, on-port); on-ip 0 means the first address of the input device (else the packet's destination), on-port 0
 * the packet's destination port. Found and transparent: mark = (mark & ~M) ^ V, NF_ACCEPT. Not found: NF_DROP.
 * Sockets are not in a snapshot: the packet's `socket` assumption decides (default: none).
 * iptables-save always prints `--on-port P --on-ip A --tproxy-mark 0xV/0xM` (no mark: 0x0/0x0; no mask: /0xffffffff).
 */
import {OptionError} from '../matches/types.ts'
import {PROTO} from '../model/packet.ts'
import type {TargetKind} from './types.ts'
import {markEffect} from './mark-bits.ts'
import {hex, parseAddrOption, parseUint, parseValueMask, placementNotes, readOptions} from './util.ts'

export interface TproxySpec {
  /** 0: keep the packet's destination port. */
  port: number
  /** Canonical address; undefined when 0.0.0.0/:: or not given. */
  ip?: string
  markValue: number
  markMask: number
}

export const tproxyTarget: TargetKind<TproxySpec> = {
  name: 'TPROXY',
  options: ['on-port', 'on-ip', 'tproxy-mark'],
  parse(opts, ctx) {
    const o = readOptions('TPROXY', opts, {'on-port': 1, 'on-ip': 1, 'tproxy-mark': 1})
    // tproxy_tg_check(): "Can be used only with -p tcp or -p udp".
    if (ctx.proto !== PROTO.tcp && ctx.proto !== PROTO.udp) throw new OptionError('TPROXY needs -p tcp or -p udp')
    const portText = o.get('on-port')?.[0]
    if (portText === undefined) throw new OptionError('TPROXY needs --on-port')
    const port = parseUint(portText, 0xffff, 'port')
    let ip: string | undefined
    const ipText = o.get('on-ip')?.[0]
    if (ipText !== undefined) {
      const a = parseAddrOption(ipText, ctx.family, '--on-ip')
      if (a.bytes.some((b) => b !== 0)) ip = a.text
    }
    const m = o.has('tproxy-mark') ? parseValueMask(o.get('tproxy-mark')![0]!, 0xffffffff, 'mark') : {value: 0, mask: 0}
    return {port, ...(ip ? {ip} : {}), markValue: m.value, markMask: m.mask ?? 0xffffffff}
  },
  apply(spec, ctx) {
    const pkt = ctx.pkt
    const effects = placementNotes(ctx, 'TPROXY', {table: 'mangle', hooks: ['PREROUTING']}, 'xt_TPROXY.c')
    const devAddr = pkt.iif ? ctx.world.router.deviceAddrs(pkt.iif, pkt.family)[0] : undefined
    const laddr = spec.ip ?? devAddr?.text ?? pkt.dst.text
    const lport = spec.port || pkt.dport
    const where = `${pkt.family === 6 ? `[${laddr}]` : laddr}:${lport ?? '?'}`
    const laddrWhy = spec.ip ? '' : devAddr ? ` (no --on-ip: first address of ${pkt.iif})` : ' (no --on-ip and no address on the input device: the destination)'
    if (!pkt.assume.socket) {
      effects.push({kind: 'note', text: `TPROXY: assumed no transparent socket for this packet (neither an established one nor a listener on ${where}${laddrWhy}); the kernel drops the packet. Assume a socket (packet assumption socket) to see it accepted`})
      return {verdict: 'DROP', effects}
    }
    effects.push({kind: 'note', text: `TPROXY: assumed a transparent (IP_TRANSPARENT) socket takes the packet (an established one of its own tuple, or the listener on ${where}${laddrWhy}); it is delivered to that socket with its addresses unchanged`})
    effects.push(markEffect('nfmark', `tproxy-mark ${hex(spec.markValue)}/${hex(spec.markMask)}`, pkt.mark, spec.markValue, spec.markMask))
    return {verdict: 'ACCEPT', effects}
  },
}
