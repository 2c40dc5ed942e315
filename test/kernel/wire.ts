/**
 * Test packets as bytes: IPv4/IPv6 with TCP, UDP or ICMP/ICMPv6, checksums filled in, optionally in an Ethernet
 * frame. Every packet carries a tag (IPv4 ID / IPv6 flow label) so its trace can be told apart from the node's own
 * traffic (RSTs, ICMP errors, REJECT replies) in `nft monitor trace`.
 */
import {parseAddr, type Family} from '../../src/net/addr.ts'
import {PROTO} from '../../src/model/packet.ts'

export interface WirePacket {
  family: Family
  proto: number
  src: string
  dst: string
  sport?: number
  dport?: number
  tcpFlags?: number
  icmpType?: number
  icmpCode?: number
  /** TCP sequence / acknowledgement numbers (default 1000, and 1 when ACK is set). */
  seq?: number
  ack?: number
  /** For an ICMP error (destination unreachable): the packet it is about, quoted after the 8-byte ICMP header. */
  inner?: WirePacket
  /** IPv4 ID (16 bits) / IPv6 flow label (20 bits). */
  tag: number
  ttl: number
}

function sum16(buf: Uint8Array, init = 0): number {
  let s = init
  for (let i = 0; i < buf.length; i += 2) s += (buf[i] << 8) | (buf[i + 1] ?? 0)
  return s
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  return ~s & 0xffff
}

function l4(p: WirePacket): Uint8Array {
  const dv = (b: Uint8Array) => new DataView(b.buffer)
  if (p.proto === PROTO.tcp) {
    const b = new Uint8Array(20)
    const v = dv(b)
    v.setUint16(0, p.sport ?? 0)
    v.setUint16(2, p.dport ?? 0)
    v.setUint32(4, p.seq ?? 1000)
    v.setUint32(8, p.ack ?? ((p.tcpFlags ?? 0) & 0x10 ? 1 : 0))
    b[12] = 5 << 4
    b[13] = p.tcpFlags ?? 0x02
    v.setUint16(14, 64240)
    return b
  }
  if (p.proto === PROTO.udp) {
    const b = new Uint8Array(12)
    const v = dv(b)
    v.setUint16(0, p.sport ?? 0)
    v.setUint16(2, p.dport ?? 0)
    v.setUint16(4, b.length)
    b.set([0x6e, 0x66, 0x6b, 0x0a], 8)
    return b
  }
  if (p.inner) {
    // Error: type, code, checksum, 4 unused bytes, then the offending packet (headers and more than 8 bytes of it).
    const b = concat(new Uint8Array(8), ipPacket(p.inner))
    b[0] = p.icmpType ?? 3
    b[1] = p.icmpCode ?? 0
    return b
  }
  // ICMP / ICMPv6 echo-style body: id, sequence, 8 bytes of payload.
  const b = new Uint8Array(16)
  b[0] = p.icmpType ?? 8
  b[1] = p.icmpCode ?? 0
  dv(b).setUint16(4, p.tag & 0xffff)
  dv(b).setUint16(6, 1)
  return b
}

function pseudoSum(p: WirePacket, len: number): number {
  const src = parseAddr(p.src).bytes
  const dst = parseAddr(p.dst).bytes
  return sum16(src) + sum16(dst) + p.proto + len
}

/** The L3 packet (what a raw IP socket with IP_HDRINCL sends). */
export function ipPacket(p: WirePacket): Uint8Array {
  const body = l4(p)
  const csumAt = p.proto === PROTO.tcp ? 16 : p.proto === PROTO.udp ? 6 : 2
  // ICMPv4 has no pseudo-header; TCP, UDP and ICMPv6 do.
  const init = p.proto === PROTO.icmp ? 0 : pseudoSum(p, body.length)
  let c = fold(sum16(body, init))
  if (p.proto === PROTO.udp && c === 0) c = 0xffff
  new DataView(body.buffer).setUint16(csumAt, c)
  const src = parseAddr(p.src).bytes
  const dst = parseAddr(p.dst).bytes
  if (p.family === 4) {
    const h = new Uint8Array(20)
    const v = new DataView(h.buffer)
    h[0] = 0x45
    v.setUint16(2, 20 + body.length)
    v.setUint16(4, p.tag & 0xffff)
    h[8] = p.ttl
    h[9] = p.proto
    h.set(src, 12)
    h.set(dst, 16)
    v.setUint16(10, fold(sum16(h)))
    return concat(h, body)
  }
  const h = new Uint8Array(40)
  const v = new DataView(h.buffer)
  v.setUint32(0, (6 << 28) | (p.tag & 0xfffff))
  v.setUint16(4, body.length)
  h[6] = p.proto
  h[7] = p.ttl
  h.set(src, 8)
  h.set(dst, 24)
  return concat(h, body)
}

export function ethFrame(dstMac: string, srcMac: string, family: Family, ip: Uint8Array): Uint8Array {
  const macBytes = (m: string) => m.split(':').map((x) => parseInt(x, 16))
  const h = new Uint8Array(14)
  h.set(macBytes(dstMac), 0)
  h.set(macBytes(srcMac), 6)
  new DataView(h.buffer).setUint16(12, family === 4 ? 0x0800 : 0x86dd)
  return concat(h, ip)
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}
