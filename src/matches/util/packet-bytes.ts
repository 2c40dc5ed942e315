/**
 * The packet as bytes from the network header on, for matches that read raw bytes (string, u32): skb->data at the
 * IP hooks is the network header (xt_string.c searches from there, xt_u32.c offsets count from there).
 * Headers are rebuilt from the packet's fields; what the packet spec does not hold (IP id, checksums, TCP
 * sequence numbers, options) is zero, and the payload is `assume.payloadHex`.
 */
import {PROTO} from '../../model/packet.ts'
import type {PacketState} from '../../engine/state.ts'

export interface PacketBytes {
  bytes: Uint8Array
  /** Offset of the L4 payload (= header length). */
  payloadAt: number
  /** False when no payload was given (then bytes end after the headers). */
  payloadKnown: boolean
}

function l4Header(pkt: PacketState): number[] {
  const sp = pkt.sport ?? 0
  const dp = pkt.dport ?? 0
  switch (pkt.proto) {
    case PROTO.tcp: // ports, seq 0, ack 0, data offset 5 (no options), flags, window/checksum/urgent 0
      return [sp >> 8, sp & 255, dp >> 8, dp & 255, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, pkt.tcpFlags ?? 0, 0, 0, 0, 0, 0, 0]
    case PROTO.udp:
    case PROTO.udplite: {
      const len = Math.max(0, pkt.length - (pkt.family === 4 ? 20 : 40))
      return [sp >> 8, sp & 255, dp >> 8, dp & 255, (len >> 8) & 255, len & 255, 0, 0]
    }
    case PROTO.sctp:
      return [sp >> 8, sp & 255, dp >> 8, dp & 255, 0, 0, 0, 0, 0, 0, 0, 0]
    case PROTO.icmp:
    case PROTO.icmpv6:
      return [pkt.icmpType ?? 0, pkt.icmpCode ?? 0, 0, 0, 0, 0, 0, 0]
    default:
      return []
  }
}

function ipHeader(pkt: PacketState): number[] {
  if (pkt.family === 4) {
    const frag = pkt.fragment ? 1 : 0 // a non-first fragment: offset 1 (8 bytes), the rest unknown
    return [0x45, pkt.tos, (pkt.length >> 8) & 255, pkt.length & 255, 0, 0, frag >> 8, frag & 255, pkt.ttl, pkt.proto, 0, 0, ...pkt.src.bytes, ...pkt.dst.bytes]
  }
  const plen = Math.max(0, pkt.length - 40)
  return [0x60 | (pkt.tos >> 4), (pkt.tos & 15) << 4, 0, 0, (plen >> 8) & 255, plen & 255, pkt.proto, pkt.ttl, ...pkt.src.bytes, ...pkt.dst.bytes]
}

export function packetBytes(pkt: PacketState): PacketBytes {
  const head = [...ipHeader(pkt), ...(pkt.fragment ? [] : l4Header(pkt))]
  const hex = pkt.assume.payloadHex?.replace(/[\s:]/g, '')
  const payload = hex ? Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16)) : new Uint8Array()
  const bytes = new Uint8Array(head.length + payload.length)
  bytes.set(head)
  bytes.set(payload, head.length)
  return {bytes, payloadAt: head.length, payloadKnown: hex !== undefined}
}

/** What the rebuilt headers leave out, for explanations. */
export const SYNTHETIC_HEADERS = 'headers rebuilt from the packet fields (IP id, checksums, TCP sequence numbers and options taken as zero/absent)'
