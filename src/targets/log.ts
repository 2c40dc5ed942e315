/**
 * `-j LOG [--log-level L] [--log-prefix P] [--log-tcp-sequence] [--log-tcp-options] [--log-ip-options] [--log-uid]
 * [--log-macdecode]`: writes one kernel log line and lets the packet continue (net/netfilter/xt_LOG.c; the line is
 * built by nf_log_syslog.c). The line here follows the kernel's field order; fields the packet model does not
 * hold (IP ID, TCP window, sequence numbers, MAC) are printed as `?`. iptables-save omits the default level 4.
 */
import {PROTO, TCP_FLAGS} from '../model/packet.ts'
import type {PacketState} from '../engine/state.ts'
import type {TargetKind} from './types.ts'
import {parseUint, readOptions} from './util.ts'

/** syslog levels by name, as iptables extensions/libxt_LOG.c accepts them. */
const LEVELS: Record<string, number> = {emerg: 0, alert: 1, crit: 2, error: 3, err: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7}
const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']

export interface LogSpec {
  level: number
  prefix: string
  tcpSequence: boolean
  tcpOptions: boolean
  ipOptions: boolean
  uid: boolean
  macDecode: boolean
}

const FLAGS = ['log-tcp-sequence', 'log-tcp-options', 'log-ip-options', 'log-uid', 'log-macdecode'] as const

/** Flag names in the kernel's print order (nf_log_dump_tcp_header). */
const TCP_FLAG_ORDER: (keyof typeof TCP_FLAGS)[] = ['CWR', 'ECE', 'URG', 'ACK', 'PSH', 'RST', 'SYN', 'FIN']

function l4(spec: LogSpec, p: PacketState): string {
  const hdr = p.family === 4 ? 20 : 40
  if (p.fragment) return `PROTO=${p.proto} `
  switch (p.proto) {
    case PROTO.tcp: {
      const flags = TCP_FLAG_ORDER.filter((f) => (p.tcpFlags ?? 0) & TCP_FLAGS[f]).map((f) => `${f} `).join('')
      return `PROTO=TCP SPT=${p.sport} DPT=${p.dport} ${spec.tcpSequence ? 'SEQ=? ACK=? ' : ''}WINDOW=? RES=0x00 ${flags}URGP=0 ${spec.tcpOptions ? 'OPT (?) ' : ''}`
    }
    case PROTO.udp:
      return `PROTO=UDP SPT=${p.sport} DPT=${p.dport} LEN=${p.length - hdr} `
    case PROTO.icmp:
      return `PROTO=ICMP TYPE=${p.icmpType ?? '?'} CODE=${p.icmpCode ?? '?'} `
    case PROTO.icmpv6:
      return `PROTO=ICMPv6 TYPE=${p.icmpType ?? '?'} CODE=${p.icmpCode ?? '?'} `
    default:
      return `PROTO=${p.proto} `
  }
}

/** The line nf_log_syslog.c would print for this packet (roughly: unknown fields are `?`). */
export function logLine(spec: LogSpec, p: PacketState): string {
  let s = `${spec.prefix}IN=${p.iif ?? ''} OUT=${p.oif ?? ''} `
  if (p.iif) s += spec.macDecode ? `MACSRC=${p.srcMac ?? '?'} MACDST=? MACPROTO=${p.family === 4 ? '0800' : '86dd'} ` : 'MAC=? '
  if (p.family === 4) {
    s += `SRC=${p.src.text} DST=${p.dst.text} LEN=${p.length} TOS=0x${(p.tos & 0x1e).toString(16).toUpperCase().padStart(2, '0')} PREC=0x${(p.tos & 0xe0).toString(16).toUpperCase().padStart(2, '0')} TTL=${p.ttl} ID=? `
    if (p.fragment) s += 'FRAG:? '
    if (spec.ipOptions) s += 'OPT (?) '
  } else {
    s += `SRC=${p.src.text} DST=${p.dst.text} LEN=${p.length} TC=${p.tos} HOPLIMIT=${p.ttl} FLOWLBL=? `
  }
  s += l4(spec, p)
  if (spec.uid && p.local) s += `UID=${p.assume.uid ?? '?'} GID=${p.assume.gid ?? '?'} `
  if (p.mark) s += `MARK=0x${p.mark.toString(16)} `
  return s.trimEnd()
}

export const logTarget: TargetKind<LogSpec> = {
  name: 'LOG',
  options: ['log-level', 'log-prefix', ...FLAGS],
  parse(opts) {
    const o = readOptions('LOG', opts, {'log-level': 1, 'log-prefix': 1, ...Object.fromEntries(FLAGS.map((f) => [f, 0]))})
    const lv = o.get('log-level')?.[0]
    const level = lv === undefined ? 4 : (LEVELS[lv.toLowerCase()] ?? parseUint(lv, 7, 'log level'))
    const prefix = o.get('log-prefix')?.[0] ?? ''
    return {
      level, prefix,
      tcpSequence: o.has('log-tcp-sequence'), tcpOptions: o.has('log-tcp-options'), ipOptions: o.has('log-ip-options'),
      uid: o.has('log-uid'), macDecode: o.has('log-macdecode'),
    }
  },
  apply: (spec, ctx) => ({
    verdict: 'CONTINUE',
    effects: [{kind: 'log', text: `LOG (level ${spec.level} ${LEVEL_NAMES[spec.level]}): ${logLine(spec, ctx.pkt)}`}],
  }),
}
