/**
 * A node snapshot: everything nfstep knows about one node, parsed and indexed. Built from a directory of plain
 * command outputs (see snapshot/files.ts for the file list); every part is optional.
 */
import type {Family, IpAddr, Cidr} from '../net/addr.ts'
import type {Ruleset} from './ruleset.ts'
import type {IpSet} from './ipset.ts'
import type {Tuple} from '../engine/state.ts'

/** A problem found while reading input: `file:line: reason`. Reading goes on. */
export interface Diagnostic {
  file: string
  line?: number
  message: string
  severity: 'error' | 'warning' | 'info'
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}${d.line !== undefined ? `:${d.line}` : ''}: ${d.message}`
}

/** One interface from `ip -j -d link show` merged with its addresses from `ip -j addr show`. */
export interface Interface {
  name: string
  index: number
  /** `veth`, `bridge`, `dummy`, … (linkinfo.info_kind), undefined for plain devices. */
  kind?: string
  up: boolean
  mac?: string
  group?: number
  /** Bridge this device is a port of (`master`). */
  master?: string
  /** In `ip addr` order; `secondary` as the kernel flags it. */
  addrs: {addr: IpAddr; prefix: number; secondary: boolean; scope: string}[]
}

/** One route from `ip -j route show table all`. */
export interface Route {
  family: Family
  /** `unicast`, `local`, `broadcast`, `blackhole`, `unreachable`, `prohibit`, `throw`, `multicast`, `anycast`. */
  type: string
  dst: Cidr
  table: string
  dev?: string
  gateway?: IpAddr
  prefsrc?: IpAddr
  metric: number
  scope?: string
  /** As `ip route` would print it, for explanations. */
  text: string
  /** Multipath next hops, if any (the engine uses the first and says so). */
  nexthops?: {dev?: string; gateway?: IpAddr}[]
}

/** One policy routing rule from `ip -j rule show`. */
export interface IpRule {
  family: Family
  priority: number
  not: boolean
  src?: Cidr
  dst?: Cidr
  iif?: string
  oif?: string
  fwmark?: number
  fwmask?: number
  tos?: number
  ipproto?: number
  sport?: [number, number]
  dport?: [number, number]
  uidrange?: [number, number]
  /** `lookup` (table), `goto`, `nop`, `blackhole`, `unreachable`, `prohibit`. */
  action: 'lookup' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit'
  table?: string
  gotoTarget?: number
  suppressPrefixlen?: number
  text: string
}

/** One conntrack entry (`conntrack -L -o extended` or /proc/net/nf_conntrack). */
export interface ConntrackEntry {
  family: Family
  proto: number
  /** TCP state name (`ESTABLISHED`, `SYN_SENT`, …) when the protocol has one. */
  protoState?: string
  timeout?: number
  orig: Tuple
  reply: Tuple
  /** IPS_* bits derived from the flags the tool prints ([UNREPLIED], [ASSURED], …). */
  status: number
  mark: number
  zone: number
  /** `file:line` of the entry. */
  origin: string
  text: string
}

export interface Snapshot {
  /** Where it came from: a directory, `live`, or `sample:NAME`. */
  source: string
  meta: {hostname?: string; kernel?: string; time?: string; collected?: Record<string, {command: string; exitCode: number; stderr?: string}>}
  iptables: Partial<Record<Family, Ruleset>>
  ipsets: Map<string, IpSet>
  interfaces: Interface[]
  routes: Route[]
  rules: IpRule[]
  conntrack: ConntrackEntry[]
  sysctl: Map<string, string>
  /** Which snapshot parts were present; an absent part is "unknown", not "empty". */
  present: Set<SnapshotPart>
  diagnostics: Diagnostic[]
}

export type SnapshotPart = 'iptables4' | 'iptables6' | 'ipset' | 'addr' | 'link' | 'route4' | 'route6' | 'rule4' | 'rule6' | 'conntrack' | 'sysctl' | 'nft' | 'ipvs'
