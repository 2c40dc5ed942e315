/**
 * The packet as the engine sees it. Fields mirror what netfilter reads from the skb and its metadata
 * (include/linux/skbuff.h: mark, dev, sk; include/net/netfilter/nf_conntrack.h: nfct).
 */
import type {Family, IpAddr} from '../net/addr.ts'

/** IP protocol numbers (include/uapi/linux/in.h). */
export const PROTO = {icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, icmpv6: 58, sctp: 132, udplite: 136, dccp: 33} as const
export const PROTO_NAMES: Record<number, string> = Object.fromEntries(Object.entries(PROTO).map(([k, v]) => [v, k]))

/** TCP flag bits as in the TCP header byte 13 (iptables --tcp-flags uses the same bits). */
export const TCP_FLAGS = {FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80} as const

export function protoName(p: number): string {
  return PROTO_NAMES[p] ?? String(p)
}

export function tcpFlagsText(flags: number): string {
  const names = Object.entries(TCP_FLAGS).filter(([, bit]) => flags & bit).map(([n]) => n)
  return names.length ? names.join(',') : 'NONE'
}

/**
 * Assumptions about state the snapshot cannot hold (rate limiters, recent lists, sockets, owners).
 * A packet spec may set them; unset means the module's documented default, which its explanation states.
 */
export interface Assumptions {
  /** `limit`/`hashlimit`/`quota`/`connlimit`: is the packet within the limit? (default: yes, a single packet) */
  underLimit?: boolean
  /** `recent --rcheck/--update`: addresses present in named lists: list name → addresses. */
  recent?: Record<string, string[]>
  /** `socket`: does a matching local socket exist? (default: no) */
  socket?: boolean
  /** `owner`: uid/gid of the sending socket, for locally generated packets. */
  uid?: number
  gid?: number
  /** `cgroup`: cgroup path or classid of the sending socket. */
  cgroup?: string
  /** `physdev`: bridge ports, for packets bridged with br_netfilter. */
  physdevIn?: string
  physdevOut?: string
  /** `policy`: the packet was decapsulated from / will be encapsulated by IPsec. */
  ipsec?: boolean
  /** `helper`: conntrack helper name of the connection. */
  helper?: string
  /** `string`/`u32`: packet payload, hex. */
  payloadHex?: string
}

/** A packet to trace, as given by the user (flags, tcpdump-like text or --packets JSON). */
export interface PacketSpec {
  id?: string | number
  family: Family
  proto: number
  src: IpAddr
  dst: IpAddr
  sport?: number
  dport?: number
  /** TCP flags byte; default SYN for TCP (a new connection). */
  tcpFlags?: number
  icmpType?: number
  icmpCode?: number
  /** ICMP echo/timestamp/info identifier (conntrack keys ICMP connections by it). */
  icmpId?: number
  /** Input interface; undefined for locally generated packets. */
  iif?: string
  /** Locally generated (enters at OUTPUT). */
  local: boolean
  /** skb->mark at entry (SO_MARK for local packets). */
  mark: number
  /** L3 length (IPv4 total length / IPv6 payload + 40). */
  length: number
  ttl: number
  tos: number
  /** Source MAC for `-m mac` (packets from the wire). */
  srcMac?: string
  /** Packet type as seen by the receiving device: host, broadcast, multicast, otherhost. */
  pktType?: 'unicast' | 'broadcast' | 'multicast' | 'otherhost'
  fragment?: boolean
  assume: Assumptions
  /** This packet continues an earlier packet's connection (by the earlier packet's id). */
  flow?: FlowRef
  /** Force the conntrack state instead of looking it up (`--ct`). */
  ct?: 'new' | 'established' | 'related' | 'invalid'
}

/**
 * reply: the answer to the earlier packet, addressed from its conntrack entry (so it goes back from whichever
 * endpoint was chosen); follow: the next packet in the original direction; related: an ICMP error about it.
 */
export interface FlowRef {
  kind: 'reply' | 'follow' | 'related'
  of: string | number
}
