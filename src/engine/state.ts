/**
 * What rules read while the engine steps a packet: the packet's current state (immutable: every change makes a
 * new object, so an event can keep the exact state its rule saw) and the world (snapshot indexes plus the state a
 * trace run may change).
 */
import type {Family, IpAddr} from '../net/addr.ts'
import type {Assumptions} from '../model/packet.ts'
import type {HookName} from '../model/ruleset.ts'
import type {IpSet} from '../model/ipset.ts'

/** A conntrack tuple (include/net/netfilter/nf_conntrack_tuple.h); ICMP uses id as sport and type/code as dport. */
export interface Tuple {
  readonly proto: number
  readonly src: IpAddr
  readonly dst: IpAddr
  readonly sport?: number
  readonly dport?: number
}

export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED'

/** IPS_* status bits (include/uapi/linux/netfilter/nf_conntrack_common.h). */
export const CT_STATUS = {
  EXPECTED: 1 << 0,
  SEEN_REPLY: 1 << 1,
  ASSURED: 1 << 2,
  CONFIRMED: 1 << 3,
  SRC_NAT: 1 << 4,
  DST_NAT: 1 << 5,
  SEQ_ADJUST: 1 << 6,
  SRC_NAT_DONE: 1 << 7,
  DST_NAT_DONE: 1 << 8,
  DYING: 1 << 9,
  FIXED_TIMEOUT: 1 << 10,
  TEMPLATE: 1 << 11,
  UNTRACKED: 1 << 12,
  HELPER: 1 << 13,
  OFFLOAD: 1 << 14,
} as const

/** The packet's conntrack association (skb->_nfct + ctinfo). */
export interface CtView {
  readonly state: CtState
  readonly dir: 'ORIGINAL' | 'REPLY'
  /** IPS_* bits. */
  readonly status: number
  readonly mark: number
  readonly zone: number
  readonly orig: Tuple
  readonly reply: Tuple
  /** Seconds left, when known from a snapshot entry. */
  readonly expires?: number
  readonly helper?: string
  /** Where the entry came from: `new` (created by this packet) or the snapshot line. */
  readonly origin: string
}

/** The packet at one point of its path. Never mutated: the engine replaces it with `{...old, field}`. */
export interface PacketState {
  readonly family: Family
  readonly proto: number
  readonly src: IpAddr
  readonly dst: IpAddr
  readonly sport?: number
  readonly dport?: number
  readonly tcpFlags?: number
  readonly icmpType?: number
  readonly icmpCode?: number
  readonly icmpId?: number
  /** Input device (undefined for locally generated packets). */
  readonly iif?: string
  /** Output device, once routed. */
  readonly oif?: string
  readonly mark: number
  readonly length: number
  readonly ttl: number
  readonly tos: number
  readonly srcMac?: string
  readonly pktType: 'unicast' | 'broadcast' | 'multicast' | 'otherhost'
  readonly fragment: boolean
  readonly local: boolean
  /** undefined until conntrack has run (raw table); null when conntrack found it INVALID. */
  readonly ct?: CtView | null
  readonly assume: Assumptions
}

/** RTN_* route types (include/uapi/linux/rtnetlink.h), as used by addrtype. */
export const RTN = {
  UNSPEC: 0, UNICAST: 1, LOCAL: 2, BROADCAST: 3, ANYCAST: 4, MULTICAST: 5, BLACKHOLE: 6, UNREACHABLE: 7,
  PROHIBIT: 8, THROW: 9, NAT: 10, XRESOLVE: 11,
} as const

export interface RouteResult {
  /** unicast/local/broadcast/multicast, or the failure kind. */
  type: 'unicast' | 'local' | 'broadcast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'none'
  /** Output device (for local: the device holding the address, usually where it is configured, or lo). */
  dev?: string
  gateway?: IpAddr
  /** Preferred source (route `src`), if any. */
  prefsrc?: IpAddr
  /** Routing table the route came from. */
  table?: string
  /** The route as `ip route` prints it. */
  routeText?: string
  /** The policy rules consulted, in order, each with whether it matched. */
  rules: {priority: number; text: string; matched: boolean; note?: string}[]
  explanation: string
}

export interface RouteQuery {
  family: Family
  dst: IpAddr
  src?: IpAddr
  iif?: string
  oif?: string
  mark: number
  tos: number
  proto?: number
  sport?: number
  dport?: number
  uid?: number
}

/** Read access to the node's routing state. Implemented in snapshot/routing.ts. */
export interface Router {
  lookup(q: RouteQuery): RouteResult
  /** RTN_* type of an address, as inet_dev_addr_type() sees it (table local only); dev limits to one device. */
  addrType(addr: IpAddr, dev?: string): number
  /** Addresses of a device, primary first, in `ip addr` order. */
  deviceAddrs(dev: string, family: Family): IpAddr[]
  /** Device group (`ip link set group`), undefined when unknown. */
  deviceGroup(dev: string): number | undefined
  /** rp_filter value in effect for a device (max of all and the device), 0 when unknown. */
  rpFilter(dev: string, family: Family): number
  hasDevice(dev: string): boolean
}

/** The part of a trace run's world that rules can read or change. One per packet run (branches re-run it). */
export interface World {
  readonly router: Router
  /** The ipset of that name as this run sees it (with SET target changes of this run). */
  set(name: string): IpSet | undefined
  /**
   * Per-rule counters (`statistic --mode nth`): read and advance; the key is the match spec object. `fresh`: this
   * session had no value yet, so `init()` was assumed (the kernel's value is not in any dump).
   */
  counter(key: object, init: () => number): {get(): number; set(v: number): void; fresh: boolean}
  /**
   * A random decision the kernel makes (statistic random, later IPVS/numgen). Returns which way this run goes;
   * the driver enumerates all ways. `p` = probability of `true` as an exact fraction num/den.
   */
  choose(label: string, num: number, den: number): boolean
  /** Sysctl value or undefined (e.g. `net.ipv4.ip_forward`). */
  sysctl(key: string): string | undefined
}

/** Everything a match or target sees. */
export interface EvalContext {
  readonly pkt: PacketState
  readonly family: Family
  readonly hook: HookName
  readonly table: string
  readonly chain: string
  readonly world: World
}
