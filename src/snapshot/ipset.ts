/**
 * ipset implementations (net/netfilter/ipset/): hash:*, bitmap:* and list:set, built from `ipset save` output
 * (parse/ipset-save.ts) and tested with keys built from the packet.
 *
 * Every element is stored under one composite string key, so a lookup is one Map.get per stored prefix length
 * combination: types with a `net` dimension try the prefix lengths present in the set, most specific first, as
 * the kernel's mtype_test_cidrs() does (ipset/ip_set_hash_gen.h); the first element found decides.
 */
import {makeCidr, parseAddr, parseCidr, AddrError, type Family, type IpAddr} from '../net/addr.ts'
import {PROTO, PROTO_NAMES} from '../model/packet.ts'
import type {IpSet, SetTestResult} from '../model/ipset.ts'
import type {PacketState} from '../engine/state.ts'

export type Dir = 'src' | 'dst'

/** What one dimension of a set type holds. */
export type DimKind = 'ip' | 'net' | 'port' | 'iface' | 'mark' | 'mac'

const DIM_KINDS: Record<string, DimKind> = {ip: 'ip', net: 'net', port: 'port', iface: 'iface', mark: 'mark', mac: 'mac'}

/** Types we model, with their dimensions (ipset/ip_set_hash_*.c, ip_set_bitmap_*.c). */
export const SET_TYPES = [
  'hash:ip', 'hash:net', 'hash:ip,port', 'hash:net,port', 'hash:ip,port,ip', 'hash:ip,port,net', 'hash:net,iface',
  'hash:net,net', 'hash:ip,mark', 'hash:mac', 'bitmap:port', 'bitmap:ip', 'bitmap:ip,mac', 'list:set',
] as const

/** Per-element extensions as `ipset save` prints them. */
export interface ElementMeta {
  nomatch?: boolean
  /** Seconds left when the snapshot was taken (0 = permanent in a set with a default timeout). */
  timeout?: number
  packets?: number
  bytes?: number
  comment?: string
}

/** A set's `create` line, parsed. */
export interface SetDef {
  name: string
  type: string
  family?: Family
  /** `create` options other than family, as written (`timeout 600`, `counters`, `range 1-1024`). */
  options: Record<string, string>
  /** hash:ip / bitmap:ip `netmask`: addresses are stored masked to this prefix length. */
  netmask?: number
  /** hash:ip,mark `markmask` (default 0xffffffff). */
  markmask: number
  /** bitmap types: inclusive range of addresses (as u32 for IPv4) or ports. */
  range?: [number, number]
  /** The set was created with `counters`: elements carry packets/bytes. */
  counters: boolean
}

/** A SetTestResult with the deciding element's counters, for `--packets-*`/`--bytes-*` (xt_set.c). */
export interface CountedSetTestResult extends SetTestResult {
  /** Undefined when the set has no counters (the kernel then skips counter conditions). `known`: from the file. */
  counters?: {packets: number; bytes: number; known: boolean}
}

/** withChange's answer; `applicable`: the packet gives this set a key at all. */
interface Change {
  set: SnapshotSet
  element: string
  changed: boolean
  applicable: boolean
}

interface Element {
  /** As `ipset save` prints it. */
  text: string
  meta: ElementMeta
}

/** One dimension's value: an address with the prefix it is stored under, a proto:port pair, or a plain string. */
type PortComp = {kind: 'port'; proto: number; port: number}
type Comp = {kind: 'addr'; addr: IpAddr; prefix: number} | PortComp | {kind: 'str'; value: string}

// ICMP type/code names as ipset prints them (ipset lib/icmp.c, lib/icmpv6.c; checked against ipset v7.17 output).
const ICMP4: Record<string, number> = {
  'echo-reply': 0x0000, pong: 0x0000, 'network-unreachable': 0x0300, 'host-unreachable': 0x0301,
  'protocol-unreachable': 0x0302, 'port-unreachable': 0x0303, 'fragmentation-needed': 0x0304,
  'source-route-failed': 0x0305, 'network-unknown': 0x0306, 'host-unknown': 0x0307, 'network-prohibited': 0x0309,
  'host-prohibited': 0x030a, 'TOS-network-unreachable': 0x030b, 'TOS-host-unreachable': 0x030c,
  'communication-prohibited': 0x030d, 'host-precedence-violation': 0x030e, 'precedence-cutoff': 0x030f,
  'source-quench': 0x0400, 'network-redirect': 0x0500, 'host-redirect': 0x0501, 'TOS-network-redirect': 0x0502,
  'TOS-host-redirect': 0x0503, 'echo-request': 0x0800, ping: 0x0800, 'router-advertisement': 0x0900,
  'router-solicitation': 0x0a00, 'ttl-zero-during-transit': 0x0b00, 'ttl-zero-during-reassembly': 0x0b01,
  'ip-header-bad': 0x0c00, 'required-option-missing': 0x0c01, 'timestamp-request': 0x0d00, 'timestamp-reply': 0x0e00,
  'address-mask-request': 0x1100, 'address-mask-reply': 0x1200,
}
const ICMP6: Record<string, number> = {
  'no-route': 0x0100, 'communication-prohibited': 0x0101, 'address-unreachable': 0x0103, 'port-unreachable': 0x0104,
  'packet-too-big': 0x0200, 'ttl-zero-during-transit': 0x0300, 'ttl-zero-during-reassembly': 0x0301,
  'bad-header': 0x0400, 'unknown-header-type': 0x0401, 'unknown-option': 0x0402, 'echo-request': 0x8000,
  'echo-reply': 0x8100, 'router-solicitation': 0x8500, 'router-advertisement': 0x8600,
  'neighbour-solicitation': 0x8700, 'neighbour-advertisement': 0x8800, redirect: 0x8900,
}
const ICMP4_NAMES = invert(ICMP4, ['pong', 'ping'])
const ICMP6_NAMES = invert(ICMP6, [])

function invert(t: Record<string, number>, aliases: string[]): Map<number, string> {
  return new Map(Object.entries(t).filter(([k]) => !aliases.includes(k)).map(([k, v]) => [v, k]))
}

/** Protocols whose port is read from the L4 header (include/linux/netfilter/ipset/ip_set_getport.h). */
const PORT_PROTOS: ReadonlySet<number> = new Set([PROTO.tcp, PROTO.udp, PROTO.udplite, PROTO.sctp])

function protoByName(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name)
  if (name === 'ipv6-icmp') return PROTO.icmpv6
  return (PROTO as Record<string, number>)[name]
}

/** `tcp:80`, `icmp:echo-request`, `ipv6-icmp:3/1`, `gre:0`, as ipset prints a proto:port pair. */
export function formatPort(proto: number, port: number): string {
  if (proto === PROTO.icmp || proto === PROTO.icmpv6) {
    const name = (proto === PROTO.icmp ? ICMP4_NAMES : ICMP6_NAMES).get(port)
    return `${proto === PROTO.icmp ? 'icmp' : 'ipv6-icmp'}:${name ?? `${port >> 8}/${port & 0xff}`}`
  }
  return `${PROTO_NAMES[proto] ?? proto}:${port}`
}

/** `[proto:]port`; the protocol defaults to tcp (ipset lib/parse.c ipset_parse_proto_port). */
function parsePort(text: string): PortComp {
  const colon = text.indexOf(':')
  const protoText = colon < 0 ? 'tcp' : text.slice(0, colon)
  const portText = colon < 0 ? text : text.slice(colon + 1)
  const proto = protoByName(protoText)
  if (proto === undefined || proto > 255) throw new AddrError(`unknown protocol ${JSON.stringify(protoText)}`)
  if (proto === PROTO.icmp || proto === PROTO.icmpv6) {
    const named = (proto === PROTO.icmp ? ICMP4 : ICMP6)[portText]
    if (named !== undefined) return {kind: 'port', proto, port: named}
    const m = /^(\d+)\/(\d+)$/.exec(portText)
    if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) throw new AddrError(`bad ICMP type/code ${JSON.stringify(portText)}`)
    return {kind: 'port', proto, port: (Number(m[1]) << 8) | Number(m[2])}
  }
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new AddrError(`bad port ${JSON.stringify(portText)}`)
  if (!PORT_PROTOS.has(proto) && Number(portText) !== 0) throw new AddrError(`protocol ${protoText} can be used with pseudo port value 0 only`)
  return {kind: 'port', proto, port: Number(portText)}
}

function compKey(c: Comp): string {
  if (c.kind === 'addr') return c.prefix === c.addr.bytes.length * 8 ? c.addr.text : makeCidr(c.addr, c.prefix).text
  if (c.kind === 'port') return `${c.proto}:${c.port}`
  return c.value
}

function compText(c: Comp): string {
  if (c.kind === 'addr') return compKey(c)
  if (c.kind === 'port') return formatPort(c.proto, c.port)
  return c.value
}

const maxPrefix = (f: Family) => (f === 4 ? 32 : 128)

function parseMac(text: string): string {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) throw new AddrError(`bad MAC address ${JSON.stringify(text)}`)
  return text.toLowerCase()
}

/** A set of one of the hash:/bitmap: types. Immutable: withChange returns a copy. */
class KeyedSet implements IpSet {
  readonly dims: number
  readonly kinds: DimKind[]
  /** Prefix length of each net dimension, per stored combination → element count; most specific first. */
  private readonly combos: number[][]

  constructor(
    readonly def: SetDef,
    private readonly elements: Map<string, Element>,
    private readonly comboCount: Map<string, number>,
  ) {
    this.kinds = def.type.slice(def.type.indexOf(':') + 1).split(',').map((k) => DIM_KINDS[k])
    this.dims = this.kinds.length
    this.combos = [...comboCount.keys()].map(comboPrefixes).sort(mostSpecificFirst)
  }

  get name() { return this.def.name }
  get type() { return this.def.type }
  get family() { return this.def.family }
  get size() { return this.elements.size }

  /** Parses an element as `ipset save` prints it (`10.0.0.0/8,tcp:80`); throws AddrError with the reason. */
  parseElement(text: string): Comp[] {
    const parts = text.split(',')
    if (parts.length !== this.dims) throw new AddrError(`${this.type} element needs ${this.dims} part(s): ${JSON.stringify(text)}`)
    return parts.map((p, i) => this.parseComp(this.kinds[i], p))
  }

  private parseComp(kind: DimKind, text: string): Comp {
    switch (kind) {
      case 'ip':
      case 'net': {
        const c = kind === 'net' ? parseCidr(text) : makeCidr(parseAddr(text), maxPrefix(parseAddr(text).family))
        if (this.def.family && c.family !== this.def.family) throw new AddrError(`${text} is not an IPv${this.def.family} address`)
        const prefix = kind === 'ip' && this.def.netmask !== undefined ? this.def.netmask : c.prefix
        if (this.def.range && (c.addr.v4 < this.def.range[0] || c.addr.v4 > this.def.range[1])) throw new AddrError(`${text} is outside the set's range`)
        return {kind: 'addr', addr: c.addr, prefix}
      }
      case 'port': {
        if (this.type === 'bitmap:port') {
          const port = Number(text)
          if (!/^\d+$/.test(text) || port < this.def.range![0] || port > this.def.range![1]) throw new AddrError(`port ${text} is outside the set's range`)
          return {kind: 'str', value: text}
        }
        return parsePort(text)
      }
      case 'iface':
        return {kind: 'str', value: text}
      case 'mark': {
        const m = Number(text)
        if (!Number.isInteger(m) || m < 0 || m > 0xffffffff) throw new AddrError(`bad mark ${JSON.stringify(text)}`)
        return {kind: 'str', value: `0x${((m & this.def.markmask) >>> 0).toString(16)}`}
      }
      case 'mac':
        return {kind: 'str', value: parseMac(text)}
    }
  }

  private static comboOf(comps: Comp[], kinds: DimKind[]): string {
    return comps.filter((_, i) => kinds[i] === 'net').map((c) => (c as {prefix: number}).prefix).join('/')
  }

  /** Key under which an element (or a packet's key at one prefix combination) is stored. */
  private static key(combo: string, comps: Comp[]): string {
    return `${combo}|${comps.map(compKey).join(',')}`
  }

  /** Builder use (parse/ipset-save.ts): adds a parsed element in place. */
  insert(text: string, meta: ElementMeta): void {
    const comps = this.parseElement(text)
    const combo = KeyedSet.comboOf(comps, this.kinds)
    const key = KeyedSet.key(combo, comps)
    if (!this.elements.has(key)) this.comboCount.set(combo, (this.comboCount.get(combo) ?? 0) + 1)
    this.elements.set(key, {text: comps.map(compText).join(','), meta})
    if (!this.combos.some((c) => c.join('/') === combo)) this.combos.push(comboPrefixes(combo))
    this.combos.sort(mostSpecificFirst)
  }

  /**
   * The packet's value for each dimension (before prefix masking), or why there is none.
   * Address/port extraction as in ipset/ip_set_hash_*.c kadt functions and ip_set_getport.c.
   */
  private packetComps(pkt: PacketState, dirs: Dir[]): Comp[] | string {
    const out: Comp[] = []
    for (let i = 0; i < this.dims; i++) {
      const dir = dirs[i]
      const kind = this.kinds[i]
      if (kind === 'ip' || kind === 'net') {
        const addr = dir === 'src' ? pkt.src : pkt.dst
        const range = this.def.range
        if (range && (addr.v4 < range[0] || addr.v4 > range[1])) return `${dir} ${addr.text} is outside the bitmap range`
        const prefix = kind === 'ip' && this.def.netmask !== undefined ? this.def.netmask : maxPrefix(addr.family)
        out.push({kind: 'addr', addr, prefix})
      } else if (kind === 'port') {
        const p = packetPort(pkt, dir)
        if (typeof p === 'string') return p
        if (this.type === 'bitmap:port') {
          // bitmap:port takes the port of TCP and UDP only (ip_set_getport.c ip_set_get_ip_port()).
          if (p.proto !== PROTO.tcp && p.proto !== PROTO.udp) return `bitmap:port needs a tcp/udp packet, this is ${PROTO_NAMES[p.proto] ?? p.proto}`
          if (p.port < this.def.range![0] || p.port > this.def.range![1]) return `${dir} port ${p.port} is outside the bitmap range`
          out.push({kind: 'str', value: String(p.port)})
        } else out.push(p)
      } else if (kind === 'iface') {
        // hash:net,iface: src → input device, dst → output device (ip_set_hash_netiface.c).
        const dev = dir === 'src' ? pkt.iif : pkt.oif
        if (!dev) return `the packet has no ${dir === 'src' ? 'input' : 'output'} device here`
        out.push({kind: 'str', value: dev})
      } else if (kind === 'mark') {
        out.push({kind: 'str', value: `0x${((pkt.mark & this.def.markmask) >>> 0).toString(16)}`})
      } else {
        // hash:mac / bitmap:ip,mac read the Ethernet header; we only know the source MAC of received packets.
        if (dir === 'dst') return 'the destination MAC address is not known (only the source MAC is modelled)'
        if (!pkt.srcMac) return 'the packet has no source MAC address (not received from Ethernet, or not given)'
        out.push({kind: 'str', value: pkt.srcMac.toLowerCase()})
      }
    }
    return out
  }

  private lookup(comps: Comp[]): {element: Element; key: string} | undefined {
    const netIdx = this.kinds.flatMap((k, i) => (k === 'net' ? [i] : []))
    for (const combo of this.combos) {
      const masked = comps.map((c, i) => {
        const j = netIdx.indexOf(i)
        return j < 0 || c.kind !== 'addr' ? c : {...c, prefix: combo[j]}
      })
      const key = KeyedSet.key(combo.join('/'), masked)
      const element = this.elements.get(key)
      if (element) return {element, key}
    }
    return undefined
  }

  private keyText(dirs: Dir[], comps: Comp[]): string {
    return `${comps.map(compText).join(',')} (${dirs.slice(0, this.dims).join(',')})`
  }

  test(pkt: PacketState, dirs: Dir[], opts: {returnNomatch?: boolean} = {}): CountedSetTestResult {
    const pre = precheck(this, pkt, dirs)
    if (pre) return {hit: false, reason: pre}
    const comps = this.packetComps(pkt, dirs)
    if (typeof comps === 'string') return {hit: false, reason: `no key for ${this.name}: ${comps}`}
    const keyText = this.keyText(dirs, comps)
    const found = this.lookup(comps)
    if (!found) return {hit: false, reason: `${keyText} is not in ${this.name} (${this.type}, ${this.size} elements)`}
    const {element} = found
    const nomatch = !!element.meta.nomatch
    const extras = describeMeta(element.meta)
    const counters = this.def.counters
      ? {packets: element.meta.packets ?? 0, bytes: element.meta.bytes ?? 0, known: element.meta.packets !== undefined}
      : undefined
    const deciding = element.text === compsText(comps) ? '' : ` via element ${element.text}`
    // --return-nomatch swaps the sense for types that support nomatch (ip_set_core.c ip_set_test()).
    if (opts.returnNomatch && this.kinds.includes('net')) {
      return nomatch
        ? {hit: true, element: element.text, nomatch, counters, reason: `${keyText} hits nomatch element ${element.text} of ${this.name}${extras}; --return-nomatch reports it as a match`}
        : {hit: false, element: element.text, counters, reason: `${keyText} is in ${this.name}${deciding}${extras}, but --return-nomatch matches nomatch elements only`}
    }
    if (nomatch) return {hit: false, element: element.text, nomatch, reason: `${keyText}: the most specific element of ${this.name} is ${element.text}, a nomatch element, so it is not in the set`}
    return {hit: true, element: element.text, counters, reason: `${keyText} is in ${this.name}${deciding}${extras}`}
  }

  withChange(op: 'add' | 'del', pkt: PacketState, dirs: Dir[]): Change {
    const pre = precheck(this, pkt, dirs)
    const comps = pre ? pre : this.packetComps(pkt, dirs)
    if (typeof comps === 'string') return {set: this, element: `(none: ${comps})`, changed: false, applicable: false}
    // Packet-derived net elements take the most specific prefix in use, else a host prefix
    // (ip_set_hash_net.c kadt: INIT_CIDR(h->nets[0].cidr[0], HOST_MASK)).
    const netIdx = this.kinds.flatMap((k, i) => (k === 'net' ? [i] : []))
    const top = this.combos[0]
    const withPrefix = comps.map((c, i) => {
      const j = netIdx.indexOf(i)
      return j < 0 || c.kind !== 'addr' ? c : {...c, prefix: top && top[j] ? top[j] : c.prefix}
    })
    const combo = KeyedSet.comboOf(withPrefix, this.kinds)
    const key = KeyedSet.key(combo, withPrefix)
    const text = compsText(withPrefix)
    const present = this.elements.has(key)
    if (op === 'add' ? present : !present) return {set: this, element: text, changed: false, applicable: true}
    const elements = new Map(this.elements)
    const counts = new Map(this.comboCount)
    if (op === 'add') {
      elements.set(key, {text, meta: {}})
      counts.set(combo, (counts.get(combo) ?? 0) + 1)
    } else {
      elements.delete(key)
      const n = (counts.get(combo) ?? 1) - 1
      if (n > 0) counts.set(combo, n)
      else counts.delete(combo)
    }
    return {set: new KeyedSet(this.def, elements, counts), element: text, changed: true, applicable: true}
  }
}

function comboPrefixes(combo: string): number[] {
  return combo === '' ? [] : combo.split('/').map(Number)
}

/** The kernel keeps its prefix lengths sorted longest first (ip_set_hash_gen.h mtype_add_cidr()). */
function mostSpecificFirst(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return b[i] - a[i]
  return 0
}

function compsText(comps: Comp[]): string {
  return comps.map(compText).join(',')
}

/** Checks ip_set_test() makes before the type's lookup (ipset/ip_set_core.c). */
function precheck(set: IpSet, pkt: PacketState, dirs: Dir[]): string | undefined {
  if (dirs.length < set.dims) return `the rule gives ${dirs.length} direction(s) but ${set.type} needs ${set.dims}, so the kernel reports no match`
  if (set.family && set.family !== pkt.family) return `${set.name} is an IPv${set.family} set and the packet is IPv${pkt.family}`
  return undefined
}

/** The packet's proto:port for a port dimension (ipset/ip_set_getport.c get_port()). */
function packetPort(pkt: PacketState, dir: Dir): PortComp | string {
  const proto = pkt.proto
  const hasHeader = PORT_PROTOS.has(proto) || proto === PROTO.icmp || proto === PROTO.icmpv6
  // IPv4 keeps proto:0 keys for fragments of port-less protocols; IPv6 refuses every non-first fragment.
  if (pkt.fragment && (hasHeader || pkt.family === 6)) return 'a non-first fragment carries no port'
  if (PORT_PROTOS.has(proto)) {
    const port = dir === 'src' ? pkt.sport : pkt.dport
    if (port === undefined) return `the packet has no ${dir} port`
    return {kind: 'port', proto, port}
  }
  if (proto === PROTO.icmp || proto === PROTO.icmpv6) {
    // ICMP stores type<<8|code whichever direction is asked for.
    if (pkt.icmpType === undefined) return 'the ICMP type is not known'
    return {kind: 'port', proto, port: (pkt.icmpType << 8) | (pkt.icmpCode ?? 0)}
  }
  // Other protocols have no ports: the key is proto:0.
  return {kind: 'port', proto, port: 0}
}

function describeMeta(m: ElementMeta): string {
  const parts: string[] = []
  if (m.timeout !== undefined) parts.push(m.timeout === 0 ? 'permanent' : `timeout ${m.timeout}s left at snapshot time; assumed still present`)
  if (m.comment !== undefined) parts.push(`comment "${m.comment}"`)
  if (m.packets !== undefined) parts.push(`packets ${m.packets} bytes ${m.bytes ?? 0}`)
  return parts.length ? ` (${parts.join(', ')})` : ''
}

/** list:set: members are tested in order; the first member that reports a hit decides (ip_set_list_set.c). */
class ListSet implements IpSet {
  readonly dims = 1
  constructor(
    readonly def: SetDef,
    readonly members: string[],
    private readonly resolve: (name: string) => SnapshotSet | undefined,
  ) {}

  get name() { return this.def.name }
  get type() { return this.def.type }
  get family() { return undefined }
  get size() { return this.members.length }

  test(pkt: PacketState, dirs: Dir[], opts: {returnNomatch?: boolean} = {}): SetTestResult {
    const misses: string[] = []
    for (const m of this.members) {
      const set = this.resolve(m)
      if (!set) {
        misses.push(`member ${m} is not in the snapshot`)
        continue
      }
      const r = set.test(pkt, dirs, opts)
      if (r.hit) return {...r, reason: `${this.name} → member ${m}: ${r.reason}`}
      misses.push(`${m}: ${r.reason}`)
    }
    if (!this.members.length) return {hit: false, reason: `${this.name} has no members`}
    return {hit: false, reason: `no member of ${this.name} holds the packet (${misses.join('; ')})`}
  }

  /** Adds to the first member that accepts the element, deletes from the first that holds it (list_set_kadd/kdel). */
  withChange(op: 'add' | 'del', pkt: PacketState, dirs: Dir[]): Change {
    for (const m of this.members) {
      const set = this.resolve(m)
      if (!set) continue
      const r = set.withChange(op, pkt, dirs)
      if (!r.applicable || (op === 'del' && !r.changed)) continue
      if (!r.changed) return {set: this, element: `${r.element} (already in member ${m})`, changed: false, applicable: true}
      const resolve = (n: string) => (n === m ? r.set : this.resolve(n))
      return {set: new ListSet(this.def, this.members, resolve), element: `${r.element} in member ${m}`, changed: true, applicable: true}
    }
    return {set: this, element: `(no member of ${this.name} ${op === 'add' ? 'accepts' : 'holds'} it)`, changed: false, applicable: false}
  }
}

export type SnapshotSet = KeyedSet | ListSet

/** Builds an empty set for a `create` line; list:set members are resolved by name through `resolve`. */
export function createSet(def: SetDef, resolve: (name: string) => SnapshotSet | undefined): SnapshotSet {
  if (def.type === 'list:set') return new ListSet(def, [], resolve)
  return new KeyedSet(def, new Map(), new Map())
}

/** Adds one `add` line's element to a set being built. Throws AddrError with the reason. */
export function insertElement(set: SnapshotSet, text: string, meta: ElementMeta): void {
  if (set instanceof ListSet) {
    if (set.members.includes(text)) throw new AddrError(`${text} is already a member`)
    set.members.push(text)
  } else set.insert(text, meta)
}
