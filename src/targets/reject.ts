/**
 * `-j REJECT [--reject-with TYPE]`: sends an ICMP error or a TCP RST back, then drops the packet
 * (net/ipv4/netfilter/ipt_REJECT.c, net/ipv6/netfilter/ip6t_REJECT.c; sending: nf_reject_ipv4.c/nf_reject_ipv6.c).
 * Names and aliases from iptables extensions/libipt_REJECT.c and libip6t_REJECT.c; iptables-save prints the
 * canonical name, and `--reject-with icmp-port-unreachable` (IPv6: icmp6-port-unreachable) when none was given.
 */
import {OptionError} from '../matches/types.ts'
import {PROTO, TCP_FLAGS} from '../model/packet.ts'
import type {PacketState} from '../engine/state.ts'
import type {TargetKind} from './types.ts'
import {placementNotes, readOptions} from './util.ts'

interface RejectType {
  name: string
  aliases: string[]
  /** ICMP type/code sent; undefined for tcp-reset. */
  icmp?: [number, number]
  what: string
}

const V4: RejectType[] = [
  {name: 'icmp-net-unreachable', aliases: ['net-unreach'], icmp: [3, 0], what: 'network unreachable'},
  {name: 'icmp-host-unreachable', aliases: ['host-unreach'], icmp: [3, 1], what: 'host unreachable'},
  {name: 'icmp-proto-unreachable', aliases: ['proto-unreach'], icmp: [3, 2], what: 'protocol unreachable'},
  {name: 'icmp-port-unreachable', aliases: ['port-unreach'], icmp: [3, 3], what: 'port unreachable'},
  {name: 'icmp-net-prohibited', aliases: ['net-prohib'], icmp: [3, 9], what: 'network administratively prohibited'},
  {name: 'icmp-host-prohibited', aliases: ['host-prohib'], icmp: [3, 10], what: 'host administratively prohibited'},
  {name: 'icmp-admin-prohibited', aliases: ['admin-prohib'], icmp: [3, 13], what: 'communication administratively prohibited'},
  {name: 'tcp-reset', aliases: ['tcp-rst'], what: 'TCP reset'},
]

const V6: RejectType[] = [
  {name: 'icmp6-no-route', aliases: ['no-route'], icmp: [1, 0], what: 'no route to destination'},
  {name: 'icmp6-adm-prohibited', aliases: ['adm-prohibited'], icmp: [1, 1], what: 'administratively prohibited'},
  {name: 'icmp6-addr-unreachable', aliases: ['addr-unreach'], icmp: [1, 3], what: 'address unreachable'},
  {name: 'icmp6-port-unreachable', aliases: ['port-unreach'], icmp: [1, 4], what: 'port unreachable'},
  {name: 'icmp6-policy-fail', aliases: ['policy-fail'], icmp: [1, 5], what: 'source address failed ingress/egress policy'},
  {name: 'icmp6-reject-route', aliases: ['reject-route'], icmp: [1, 6], what: 'reject route to destination'},
  {name: 'tcp-reset', aliases: ['tcp-rst'], what: 'TCP reset'},
]

export interface RejectSpec {
  /** Canonical name as iptables-save prints it. */
  with: string
}

function types(family: 4 | 6): RejectType[] {
  return family === 4 ? V4 : V6
}

/** Why no reply goes out although the packet is dropped, or undefined when one is sent. */
function suppressed(t: RejectType, pkt: PacketState): string | undefined {
  if (!t.icmp) {
    // nf_send_reset(): never answer a RST with a RST; only TCP can be reset.
    if (pkt.proto !== PROTO.tcp) return 'the packet is not TCP'
    if ((pkt.tcpFlags ?? 0) & TCP_FLAGS.RST) return 'the packet is itself a RST'
    return undefined
  }
  // icmp_send()/icmp6_send(): no error about a non-first fragment, a broadcast/multicast, or an ICMP error.
  if (pkt.fragment) return 'the packet is a non-first fragment'
  if (pkt.pktType === 'broadcast' || pkt.pktType === 'multicast') return `the packet was ${pkt.pktType}`
  const icmpError = pkt.family === 4
    ? pkt.proto === PROTO.icmp && [3, 4, 5, 11, 12].includes(pkt.icmpType ?? -1)
    : pkt.proto === PROTO.icmpv6 && (pkt.icmpType ?? 255) < 128
  if (icmpError) return 'the packet is an ICMP error, which never gets an ICMP error back'
  return undefined
}

export const rejectTarget: TargetKind<RejectSpec> = {
  name: 'REJECT',
  options: ['reject-with'],
  parse(opts, ctx) {
    const o = readOptions('REJECT', opts, {'reject-with': 1})
    const given = o.get('reject-with')?.[0]
    const t = given === undefined
      ? types(ctx.family).find((x) => x.name === (ctx.family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'))!
      : types(ctx.family).find((x) => x.name === given || x.aliases.includes(given))
    if (!t) throw new OptionError(`unknown reject type ${JSON.stringify(given)} for IPv${ctx.family}`)
    // reject_tg_check(): tcp-reset needs the rule to match `-p tcp`.
    if (!t.icmp && ctx.proto !== PROTO.tcp) throw new OptionError('--reject-with tcp-reset needs -p tcp')
    return {with: t.name}
  },
  apply(spec, ctx) {
    const t = types(ctx.family).find((x) => x.name === spec.with)!
    const pkt = ctx.pkt
    const why = suppressed(t, pkt)
    const reply = t.icmp
      ? `an ICMP${ctx.family === 6 ? 'v6' : ''} ${t.what} (type ${t.icmp[0]} code ${t.icmp[1]}) to ${pkt.src.text}`
      : `a TCP RST to ${pkt.src.text}${pkt.sport !== undefined ? ` port ${pkt.sport}` : ''}`
    const text = why
      ? `REJECT ${spec.with}: the packet is dropped and no reply is sent (${why})`
      : `REJECT ${spec.with}: sends ${reply}, then drops the packet`
    return {
      verdict: 'REJECT',
      effects: [
        ...placementNotes(ctx, 'REJECT', {table: 'filter', hooks: ['INPUT', 'FORWARD', 'OUTPUT']}, ctx.family === 4 ? 'ipt_REJECT.c' : 'ip6t_REJECT.c'),
        {kind: 'reject', with: spec.with, text},
      ],
    }
  },
}
