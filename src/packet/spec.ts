/**
 * Packets to trace, from the three ways a user gives them: flags, a tcpdump-like line
 * (`tcp 10.0.1.5:40000 > 10.96.0.10:80 in eth0`), or a `--packets` JSON file. All become one PacketInput,
 * validated by one zod schema, then a PacketSpec.
 */
import {z} from 'zod'
import {parseAddr, type IpAddr} from '../net/addr.ts'
import {PROTO, TCP_FLAGS, type PacketSpec} from '../model/packet.ts'
import type {CtView, Router} from '../engine/state.ts'
import type {FlowRef} from '../model/packet.ts'

const num = z.union([z.number().int(), z.string().regex(/^(0x[0-9a-f]+|\d+)$/i).transform((s) => Number(s))])

/** The `--packets` element schema (snake_case as in the README's contract). */
export const PacketInputSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  proto: z.union([z.string(), z.number()]).optional(),
  family: z.union([z.literal(4), z.literal(6)]).optional(),
  src: z.string().optional(),
  dst: z.string().optional(),
  sport: z.number().int().min(0).max(65535).optional(),
  dport: z.number().int().min(0).max(65535).optional(),
  in: z.string().optional(),
  local: z.boolean().optional(),
  mark: num.optional(),
  tcp_flags: z.union([z.string(), z.number().int()]).optional(),
  icmp_type: z.number().int().min(0).max(255).optional(),
  icmp_code: z.number().int().min(0).max(255).optional(),
  icmp_id: z.number().int().min(0).max(65535).optional(),
  length: z.number().int().positive().optional(),
  ttl: z.number().int().min(0).max(255).optional(),
  tos: num.optional(),
  src_mac: z.string().optional(),
  pkt_type: z.enum(['unicast', 'broadcast', 'multicast', 'otherhost']).optional(),
  assume: z.record(z.string(), z.unknown()).optional(),
  reply_of: z.union([z.string(), z.number()]).optional(),
  follow_of: z.union([z.string(), z.number()]).optional(),
  related_of: z.union([z.string(), z.number()]).optional(),
  ct: z.enum(['new', 'established', 'related', 'invalid']).optional(),
}).strict()

export type PacketInput = z.input<typeof PacketInputSchema>

export class PacketError extends Error {}

export function parseProto(p: string | number): number {
  if (typeof p === 'number') return p
  const name = p.toLowerCase() === 'ipv6-icmp' || p.toLowerCase() === 'icmp6' ? 'icmpv6' : p.toLowerCase()
  if (name in PROTO) return PROTO[name as keyof typeof PROTO]
  if (/^\d+$/.test(name)) return Number(name)
  throw new PacketError(`unknown protocol ${JSON.stringify(p)}`)
}

/** `SYN,ACK`, `S.` / `SA` (tcpdump letters, `.` = ACK), or a number. */
export function parseTcpFlags(f: string | number): number {
  if (typeof f === 'number') return f
  if (/^(0x[0-9a-f]+|\d+)$/i.test(f)) return Number(f)
  if (f.includes(',') || f.toUpperCase() in TCP_FLAGS) {
    return f.split(',').reduce((acc, n) => {
      const bit = TCP_FLAGS[n.trim().toUpperCase() as keyof typeof TCP_FLAGS]
      if (bit === undefined) throw new PacketError(`unknown TCP flag ${JSON.stringify(n)}`)
      return acc | bit
    }, 0)
  }
  const letters: Record<string, number> = {F: 1, S: 2, R: 4, P: 8, '.': 0x10, A: 0x10, U: 0x20, E: 0x40, W: 0x80}
  let flags = 0
  for (const ch of f.toUpperCase()) {
    if (letters[ch] === undefined) throw new PacketError(`unknown TCP flag letter ${JSON.stringify(ch)} in ${JSON.stringify(f)}`)
    flags |= letters[ch]
  }
  return flags
}

function addr(text: string, what: string): IpAddr {
  try {
    return parseAddr(text)
  } catch {
    throw new PacketError(`${what}: not an IP address: ${JSON.stringify(text)}`)
  }
}

/** Splits `10.0.0.1:80`, `[2001:db8::1]:80`, `2001:db8::1` (no port), `10.0.0.1`. */
export function splitHostPort(text: string): {host: string; port?: number} {
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  if (m6) return {host: m6[1], port: m6[2] === undefined ? undefined : Number(m6[2])}
  const colons = text.split(':').length - 1
  if (colons === 1) {
    const [host, port] = text.split(':')
    if (!/^\d+$/.test(port)) throw new PacketError(`bad port in ${JSON.stringify(text)}`)
    return {host, port: Number(port)}
  }
  if (colons > 1) {
    // tcpdump style 2001:db8::1.80 is ambiguous; accept a trailing .PORT on IPv6
    const dot = /^(.*:.*)\.(\d+)$/.exec(text)
    if (dot) return {host: dot[1], port: Number(dot[2])}
  }
  return {host: text}
}

/**
 * `PROTO SRC[:PORT] > DST[:PORT] [in IFACE | local] [mark M] [flags F] [icmp-type T] [icmp-code C] [icmp-id I]`.
 * PROTO may be omitted (tcp).
 */
export function parsePacketLine(line: string): PacketInput {
  const words = line.trim().split(/\s+/)
  const gt = words.indexOf('>')
  if (gt < 1 || gt + 1 >= words.length) throw new PacketError(`expected "PROTO SRC[:PORT] > DST[:PORT] [in IFACE|local]", got ${JSON.stringify(line)}`)
  const head = words.slice(0, gt)
  const proto = head.length > 1 ? head[0] : 'tcp'
  const src = splitHostPort(head[head.length - 1])
  const dst = splitHostPort(words[gt + 1])
  const input: PacketInput = {proto, src: src.host, sport: src.port, dst: dst.host, dport: dst.port}
  for (let i = gt + 2; i < words.length; i++) {
    const w = words[i]
    const next = () => {
      const v = words[++i]
      if (v === undefined) throw new PacketError(`${w} needs a value`)
      return v
    }
    if (w === 'local') input.local = true
    else if (w === 'in') input.in = next()
    else if (w === 'mark') input.mark = next()
    else if (w === 'flags') input.tcp_flags = next()
    else if (w === 'icmp-type') input.icmp_type = Number(next())
    else if (w === 'icmp-code') input.icmp_code = Number(next())
    else if (w === 'icmp-id') input.icmp_id = Number(next())
    else throw new PacketError(`unknown word ${JSON.stringify(w)} in packet ${JSON.stringify(line)}`)
  }
  return input
}

/** What an earlier packet of the same run left behind, for packets that continue its connection. */
export interface FlowOrigin {
  spec: PacketSpec
  /** Its connection as it stood after the packet (reply tuple carries the NAT the kernel chose). */
  ct: CtView
  disposition: string
  /** Where it left the host (null when delivered locally or dropped). */
  oif: string | null
  /** How many paths it had, and which one its connection comes from. */
  paths: number
  path: number
}

export interface SpecContext {
  router: Router
  /** The stored result of packet `id` earlier in this run, if any. */
  flow?(id: string | number): FlowOrigin | undefined
}

function flowRefOf(p: z.output<typeof PacketInputSchema>): FlowRef | undefined {
  const refs = ([['reply', p.reply_of], ['follow', p.follow_of], ['related', p.related_of]] as const).filter(([, v]) => v !== undefined)
  if (refs.length > 1) throw new PacketError('give at most one of reply_of, follow_of, related_of')
  return refs.length ? {kind: refs[0][0], of: refs[0][1]!} : undefined
}

/**
 * Fills a flow packet's unspecified fields from the packet it continues: a reply is addressed from the
 * connection's reply tuple (so it comes back from whichever endpoint DNAT chose), a follow-up repeats the original,
 * an ICMP error goes from where the original ended up back to its (translated) source.
 */
function deriveFromFlow(p: z.output<typeof PacketInputSchema>, ref: FlowRef, o: FlowOrigin): z.output<typeof PacketInputSchema> {
  const t = ref.kind === 'follow' ? o.ct.orig : o.ct.reply
  const fam6 = t.src.family === 6
  const cameIn = o.spec.local ? {local: true} : {in: o.spec.iif}
  // The answer arrives where the original left, or is generated here when the original was delivered here.
  const backIn = o.disposition === 'local' ? {local: true} : o.oif ? {in: o.oif} : {}
  const where = p.in !== undefined || p.local !== undefined ? {} : ref.kind === 'follow' ? cameIn : backIn
  if (ref.kind === 'related') {
    return {
      ...where, icmp_type: fam6 ? 1 : 3, icmp_code: fam6 ? 4 : 3,
      ...p, proto: p.proto ?? (fam6 ? 'icmpv6' : 'icmp'), src: p.src ?? t.src.text, dst: p.dst ?? t.dst.text,
    }
  }
  const proto = o.spec.proto
  const flags = proto === PROTO.tcp && p.tcp_flags === undefined
    ? {tcp_flags: ref.kind === 'reply' && o.spec.tcpFlags === TCP_FLAGS.SYN ? 'SYN,ACK' : 'ACK'}
    : {}
  const icmp = o.spec.icmpType !== undefined && p.icmp_type === undefined
    ? {icmp_type: ref.kind === 'reply' ? t.dport! >> 8 : o.spec.icmpType, icmp_code: t.dport! & 0xff, icmp_id: t.sport}
    : {}
  return {
    ...where, ...flags, ...icmp, ...p, proto: p.proto ?? proto,
    src: p.src ?? t.src.text, dst: p.dst ?? t.dst.text,
    ...(o.spec.icmpType === undefined ? {sport: p.sport ?? t.sport, dport: p.dport ?? t.dport} : {}),
  }
}

/**
 * Validates an input and fills defaults: TCP packets are SYNs (a new connection) unless flags are given; a
 * locally generated packet without a source gets the source the output route would choose; a packet that continues
 * an earlier one (reply_of / follow_of / related_of) takes what it does not say from that packet's connection.
 */
export function toPacketSpec(raw: unknown, sctx: SpecContext | Router): PacketSpec {
  const c: SpecContext = 'lookup' in sctx ? {router: sctx} : sctx
  const router = c.router
  const r = PacketInputSchema.safeParse(raw)
  if (!r.success) throw new PacketError(r.error.issues.map((i) => `${i.path.join('.') || 'packet'}: ${i.message}`).join('; '))
  let p = r.data
  const flow = flowRefOf(p)
  if (flow) {
    const origin = c.flow?.(flow.of)
    if (!origin) throw new PacketError(`${flow.kind}_of ${JSON.stringify(flow.of)}: no earlier packet with that id in this run`)
    p = deriveFromFlow(p, flow, origin)
  }
  if (p.dst === undefined) throw new PacketError('dst is required')
  const proto = parseProto(p.proto ?? 'tcp')
  const dst = addr(p.dst, 'dst')
  const local = p.local === true
  if (local && p.in !== undefined) throw new PacketError('a packet is either `local` (generated here) or comes `in IFACE`, not both')
  if (!local && p.in === undefined) throw new PacketError('say where the packet comes from: `in IFACE` (from the wire) or `local` (generated here)')
  let src: IpAddr
  if (p.src) src = addr(p.src, 'src')
  else if (local && router) {
    const route = router.lookup({family: dst.family, dst, mark: Number(p.mark ?? 0), tos: 0})
    const chosen = route.prefsrc ?? (route.type === 'local' ? dst : route.dev ? router.deviceAddrs(route.dev, dst.family)[0] : undefined)
    if (!chosen) throw new PacketError(`no source given and the output route to ${dst.text} does not give one: add a source address`)
    src = chosen
  } else throw new PacketError('src is required for packets from the wire')
  if (src.family !== dst.family) throw new PacketError(`src ${src.text} and dst ${dst.text} are of different families`)
  if (p.family && p.family !== dst.family) throw new PacketError(`family ${p.family} does not fit ${dst.text}`)
  const ported = proto === PROTO.tcp || proto === PROTO.udp || proto === PROTO.sctp || proto === PROTO.udplite || proto === PROTO.dccp
  if (ported && p.dport === undefined) throw new PacketError(`a ${p.proto} packet needs a destination port`)
  const isIcmp = proto === PROTO.icmp || proto === PROTO.icmpv6
  if (proto === PROTO.icmp && dst.family === 6) throw new PacketError('icmp with IPv6 addresses: use icmpv6')
  return {
    id: p.id, family: dst.family, proto, src, dst,
    sport: ported ? (p.sport ?? 40000) : undefined,
    dport: ported ? p.dport : undefined,
    tcpFlags: proto === PROTO.tcp ? (p.tcp_flags !== undefined ? parseTcpFlags(p.tcp_flags) : TCP_FLAGS.SYN) : undefined,
    icmpType: isIcmp ? (p.icmp_type ?? (proto === PROTO.icmp ? 8 : 128)) : undefined,
    icmpCode: isIcmp ? (p.icmp_code ?? 0) : undefined,
    icmpId: isIcmp ? (p.icmp_id ?? 0) : undefined,
    iif: local ? undefined : p.in, local,
    mark: Number(p.mark ?? 0) >>> 0,
    length: p.length ?? (dst.family === 4 ? 60 : 80),
    ttl: p.ttl ?? 64, tos: Number(p.tos ?? 0),
    srcMac: p.src_mac, pktType: p.pkt_type, fragment: false,
    assume: (p.assume ?? {}) as PacketSpec['assume'],
    ...(flow ? {flow} : {}),
    ...(p.ct ? {ct: p.ct} : {}),
  }
}
