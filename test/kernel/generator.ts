/**
 * Seeded random rulesets and packets for the kernel-differential test. Same seed → same case, on any machine.
 *
 * Rulesets: raw/mangle/filter with user chains (each owned by one built-in chain, so every rule knows which hooks
 * can reach it and only uses options valid there: -i not on OUTPUT/POSTROUTING, -o not on PREROUTING/INPUT, REJECT
 * only in filter), jumps, gotos, RETURNs, addresses with masks and `!`, interfaces with `+`, tcp/udp/icmp details,
 * marks, connmarks, ctstate, addrtype, iprange, ipsets, policies, and `ip rule fwmark` policy routing.
 * Packets are drawn from the same small universe of addresses/ports the rules use, or ±1 from them, so they hit
 * rules and nearly miss them.
 */
import {parseAddr, fromBytes, type Family} from '../../src/net/addr.ts'
import {PROTO, type PacketSpec} from '../../src/model/packet.ts'
import {DEV, NET, POLICY_TABLE} from './netns.ts'
import type {WirePacket} from './wire.ts'
import {table} from '../helpers/snapshot.ts'
import {BUILTIN_CHAINS} from '../../src/parse/iptables-save.ts'

/** mulberry32: a tiny, well-mixed 32-bit PRNG; enough for test generation and identical everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Rng {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]
  }
  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(xs: readonly [number, T][]): T {
    let r = this.next() * xs.reduce((s, [w]) => s + w, 0)
    for (const [w, v] of xs) if ((r -= w) < 0) return v
    return xs[xs.length - 1][1]
  }
}

export type Origin = 'client' | 'server' | 'local'

/**
 * A test packet: the wire fields (the oracle sends it with TTL 64; `tag` ties the kernel's trace to it; seq/ack so a
 * conversation's SYN-ACK and ACK fit conntrack's window tracking) plus where it comes from and its mark.
 */
export interface GenPacket extends Omit<WirePacket, 'ttl'> {
  id: string
  from: Origin
  /** SO_MARK of a locally generated packet (a mark set on the wire is cleared crossing the veth). */
  mark: number
}

export interface GenCase {
  seed: number
  family: Family
  /** iptables-restore / ip6tables-restore input. */
  iptables: string
  /** `ipset restore` input creating the sets with their elements. */
  ipsets: string
  /** `ipset restore` input that puts the sets back as created (SET --add-set changes them per packet). */
  ipsetReset: string
  /** Arguments after `ip -4|-6 rule add`. */
  ipRules: string[][]
  packets: GenPacket[]
  /** Rules use `-j SET`: the sets must be reset before each packet. */
  changesSets: boolean
}

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING'
/** The built-in chains of a table (the hooks it registers). */
export const hooksOf = (table: string) => BUILTIN_CHAINS[table] as readonly Hook[]
/** Tables generated. The nat table has its own suite (nat-generator.ts). */
const TABLES = ['raw', 'mangle', 'filter'] as const
const IN_OK: Hook[] = ['PREROUTING', 'INPUT', 'FORWARD']
const OUT_OK: Hook[] = ['FORWARD', 'OUTPUT', 'POSTROUTING']

const MARKS = [0x0, 0x1, 0x2, 0x3, 0x10, 0x11, 0x12, 0x100] as const
const MASKS = [0xffffffff, 0xff, 0xf, 0x1, 0x10, 0xf0] as const
/** Policy routing: a packet whose mark has this bit leaves by the uplink (table POLICY_TABLE). */
export const POLICY_MARK = 0x10

export const hx = (n: number) => `0x${(n >>> 0).toString(16)}`

export interface Universe {
  client: string[]
  server: string[]
  /** Node addresses packets may be sent to (local delivery). */
  node: string[]
  /** Node addresses a locally generated packet may come from. */
  nodeSrc: string[]
  ports: number[]
}

export function hostIn(rng: Rng, family: Family, pool: string): string {
  const base = parseAddr(pool.split('/')[0]).bytes
  const b = new Uint8Array(base)
  // Last two bytes random, host byte kept in 2..250 so ±1 stays inside the pool and never hits .0/.255.
  b[b.length - 2] = rng.int(0, 3)
  b[b.length - 1] = rng.int(2, 250)
  return fromBytes(family, b).text
}

export function plusMinus(addr: string, d: number): string {
  const a = parseAddr(addr)
  const b = new Uint8Array(a.bytes)
  b[b.length - 1] += d
  return fromBytes(a.family, b).text
}

export function universe(rng: Rng, family: Family): Universe {
  const n = NET[family]
  return {
    client: [hostIn(rng, family, n.clientPool), hostIn(rng, family, n.clientPool)],
    server: [hostIn(rng, family, n.serverPool), hostIn(rng, family, n.serverPool)],
    node: [n.client.node, n.nodeExtra],
    nodeSrc: [n.server.node, n.nodeExtra],
    ports: [22, 80, 443, rng.int(1024, 65000)],
  }
}

export interface Ctx {
  rng: Rng
  family: Family
  u: Universe
  table: string
  hook: Hook
  sets: SetDef[]
  changesSets: boolean
}

interface SetDef {
  name: string
  type: 'hash:ip' | 'hash:net' | 'hash:ip,port'
  elements: string[]
}

function cidr(c: Ctx): string {
  const {rng, u, family} = c
  const addr = rng.pick([...u.client, ...u.server, ...u.node])
  const prefix = family === 4 ? rng.pick([32, 32, 24, 16, 8]) : rng.pick([128, 128, 64, 48, 32])
  return `${addr}/${prefix}`
}

function ports(c: Ctx): string {
  const {rng, u} = c
  const p = rng.pick(u.ports)
  // A range with equal ends is refused by libxt_multiport ("invalid portrange"): keep hi > lo.
  return rng.chance(0.7) ? String(p) : `${Math.max(1, p - rng.int(0, 2))}:${p + rng.int(1, 2)}`
}

/** Returns the match part of a rule (may be empty) and the protocol it pinned, if any. */
export function matches(c: Ctx): {text: string[]; proto?: 'tcp' | 'udp' | 'icmp'} {
  const {rng, family} = c
  const out: string[] = []
  const neg = (p = 0.2) => (rng.chance(p) ? '! ' : '')
  const proto = rng.chance(0.5) ? rng.weighted<'tcp' | 'udp' | 'icmp'>([[3, 'tcp'], [2, 'udp'], [1, 'icmp']]) : undefined
  if (rng.chance(0.35)) out.push(`${neg()}-s ${cidr(c)}`)
  if (rng.chance(0.35)) out.push(`${neg()}-d ${cidr(c)}`)
  if (IN_OK.includes(c.hook) && rng.chance(0.2)) out.push(`${neg()}-i ${rng.pick([DEV.toClient, DEV.toServer, 'n+', 'nc+', 'lo', 'x+'])}`)
  if (OUT_OK.includes(c.hook) && rng.chance(0.2)) out.push(`${neg()}-o ${rng.pick([DEV.toServer, DEV.toUplink, DEV.toClient, 'n+', 'nu+', 'x+'])}`)
  if (proto) {
    out.push(`${neg(0.1)}-p ${proto === 'icmp' && family === 6 ? 'ipv6-icmp' : proto}`)
    // A negated protocol leaves the protocol unknown: no protocol options then (iptables refuses them).
    if (!out[out.length - 1].startsWith('!')) {
      if (proto === 'tcp' || proto === 'udp') {
        const m: string[] = []
        if (rng.chance(0.4)) m.push(`${neg(0.15)}--dport ${ports(c)}`)
        if (rng.chance(0.15)) m.push(`${neg(0.15)}--sport ${ports(c)}`)
        if (proto === 'tcp' && rng.chance(0.25)) m.push(rng.chance(0.5) ? `${neg(0.2)}--syn` : `${neg(0.2)}--tcp-flags ${rng.pick(['SYN,ACK SYN', 'SYN,ACK,FIN,RST ACK', 'ALL SYN', 'FIN,RST FIN'])}`)
        if (m.length) out.push(`-m ${proto} ${m.join(' ')}`)
        else if (rng.chance(0.2)) {
          const list = [rng.pick(c.u.ports), ports(c), rng.pick(c.u.ports)]
          out.push(`-m multiport ${neg(0.15)}--${rng.pick(['dports', 'sports', 'ports'])} ${list.join(',')}`)
        }
      } else if (rng.chance(0.5)) {
        const t = rng.pick(['echo-request', 'echo-reply'])
        out.push(family === 4 ? `-m icmp ${neg(0.15)}--icmp-type ${t}` : `-m icmp6 ${neg(0.15)}--icmpv6-type ${t}`)
      }
    }
  }
  if (rng.chance(0.2)) out.push(`-m mark ${neg()}--mark ${hx(rng.pick(MARKS))}/${hx(rng.pick(MASKS))}`)
  if (rng.chance(0.1)) out.push(`-m connmark ${neg()}--mark ${hx(rng.pick(MARKS))}/${hx(rng.pick(MASKS))}`)
  if (rng.chance(0.15)) out.push(`-m conntrack ${neg(0.15)}--ctstate ${rng.pick(['NEW', 'ESTABLISHED', 'INVALID', 'NEW,ESTABLISHED', 'RELATED,ESTABLISHED', 'UNTRACKED'])}`)
  // xt_addrtype.c refuses BROADCAST for IPv6.
  if (rng.chance(0.1)) out.push(`-m addrtype ${neg(0.2)}--${rng.pick(['src', 'dst'])}-type ${rng.pick(family === 4 ? ['LOCAL', 'LOCAL', 'UNICAST', 'BROADCAST'] : ['LOCAL', 'LOCAL', 'UNICAST', 'MULTICAST'])}`)
  if (rng.chance(0.08)) {
    const a = rng.pick([...c.u.client, ...c.u.server, ...c.u.node])
    out.push(`-m iprange ${neg(0.2)}--${rng.pick(['src', 'dst'])}-range ${plusMinus(a, -rng.int(0, 1))}-${plusMinus(a, rng.int(0, 2))}`)
  }
  if (c.sets.length && rng.chance(0.15)) {
    const s = rng.pick(c.sets)
    const dirs = s.type === 'hash:ip,port' ? rng.pick(['dst,dst', 'src,src']) : rng.pick(['src', 'dst'])
    out.push(`-m set ${neg(0.2)}--match-set ${s.name} ${dirs}`)
  }
  return {text: out, proto: proto && !out.some((m) => m.startsWith('! -p')) ? proto : undefined}
}

function markTarget(c: Ctx): string {
  const {rng} = c
  const v = rng.pick(MARKS)
  return rng.weighted([
    [3, `-j MARK --set-xmark ${hx(v)}/${hx(rng.pick(MASKS))}`],
    [1, `-j MARK --or-mark ${hx(rng.pick([0x1, 0x10, 0x100]))}`],
    [1, `-j MARK --and-mark ${hx(rng.pick([0xfffffffe, 0xffffffef, 0xff]))}`],
    [1, `-j CONNMARK --save-mark --nfmask ${hx(rng.pick(MASKS))} --ctmask ${hx(rng.pick(MASKS))}`],
    [1, `-j CONNMARK --restore-mark --nfmask ${hx(rng.pick(MASKS))} --ctmask ${hx(rng.pick(MASKS))}`],
    [1, `-j CONNMARK --set-xmark ${hx(v)}/${hx(rng.pick(MASKS))}`],
  ])
}

function target(c: Ctx, userChains: string[], isBase: boolean, proto?: string): string {
  const {rng} = c
  const options: [number, () => string][] = [
    [3, () => markTarget(c)],
    [1, () => ''],
    [2, () => '-j ACCEPT'],
    [c.table === 'filter' ? 2 : 0.3, () => '-j DROP'],
    [isBase ? 0.3 : 1.5, () => '-j RETURN'],
  ]
  if (c.table === 'filter') options.push([1.5, () => (rng.chance(0.7) ? '-j REJECT' : `-j REJECT --reject-with ${c.family === 4 ? 'icmp-host-prohibited' : 'icmp6-adm-prohibited'}`)])
  if (userChains.length) options.push([3, () => `${rng.chance(0.75) ? '-j' : '-g'} ${rng.pick(userChains)}`])
  if (c.sets.length) {
    const s = c.sets.find((x) => x.type !== 'hash:ip,port' || proto === 'tcp' || proto === 'udp')
    if (s) {
      options.push([0.7, () => {
        c.changesSets = true
        return `-j SET --add-set ${s.name} ${s.type === 'hash:ip,port' ? 'dst,dst' : rng.pick(['src', 'dst'])}`
      }])
    }
  }
  return rng.weighted(options.map(([w, f]) => [w, f] as [number, () => string]))()
}

function rule(c: Ctx, chain: string, userChains: string[], isBase: boolean): string {
  const m = matches(c)
  const t = target(c, userChains, isBase, m.proto)
  return [`-A ${chain}`, ...m.text, t].filter(Boolean).join(' ')
}

/** User chains U<prefix>0, U<prefix>1, …, each owned by one of `hooks` (its rules only use options valid there). */
export function ownedChains(rng: Rng, hooks: readonly Hook[], prefix: string): Map<Hook, string[]> {
  const owned = new Map<Hook, string[]>()
  const nUser = rng.int(0, 3)
  for (let i = 0; i < nUser; i++) {
    const h = rng.pick(hooks)
    owned.set(h, [...(owned.get(h) ?? []), `U${prefix}${i}`])
  }
  return owned
}

/**
 * The rules of each hook's chain, then of the user chains it owns: a built-in chain may jump to any of its user
 * chains (and has a rule when it owns one), a user chain only to later chains of the same owner, so there are no loops.
 * `rules(hook)` gives the rule maker for one hook: (chain, chains it may jump to, is a built-in chain) → rule text.
 */
export function chainRules(rng: Rng, hooks: readonly Hook[], owned: Map<Hook, string[]>, max: {base: (hook: Hook) => number; user: number},
  rules: (hook: Hook) => (chain: string, users: string[], isBase: boolean) => string): string[] {
  const body: string[] = []
  for (const hook of hooks) {
    const rule = rules(hook)
    const users = owned.get(hook) ?? []
    const nBase = rng.int(users.length ? 1 : 0, max.base(hook))
    for (let i = 0; i < nBase; i++) body.push(rule(hook, users, true))
    users.forEach((name, k) => {
      const n = rng.int(0, max.user)
      for (let i = 0; i < n; i++) body.push(rule(name, users.slice(k + 1), false))
    })
  }
  return body
}

function genSets(rng: Rng, family: Family, u: Universe): SetDef[] {
  if (!rng.chance(0.35)) return []
  const pick = () => rng.pick([...u.client, ...u.server, ...u.node])
  const sets: SetDef[] = [
    {name: 'nfk_ip', type: 'hash:ip', elements: [pick(), pick()]},
    {name: 'nfk_net', type: 'hash:net', elements: [`${pick()}/${family === 4 ? rng.pick([24, 30, 16]) : rng.pick([64, 120])}`]},
  ]
  if (rng.chance(0.5)) sets.push({name: 'nfk_ipport', type: 'hash:ip,port', elements: [`${pick()},${rng.pick(['tcp', 'udp'])}:${rng.pick(u.ports)}`]})
  return sets
}

function setsText(sets: SetDef[], family: Family, reset: boolean): string {
  const fam = family === 4 ? 'inet' : 'inet6'
  const lines: string[] = []
  for (const s of sets) {
    lines.push(reset ? `flush ${s.name}` : `create ${s.name} ${s.type} family ${fam}`)
    // Elements are drawn at random and may repeat; ipset restore refuses a duplicate add.
    for (const e of new Set(s.elements)) lines.push(`add ${s.name} ${e}`)
  }
  return lines.length ? `${lines.join('\n')}\n` : ''
}

/**
 * Where a packet comes from and goes: from a client (to `clientDst`'s choices), a server (to a client or
 * `serverToNode`) or the node itself (to a server or client). `near` moves an address by ±1 now and then.
 */
export function packetEnds(rng: Rng, u: Universe, near: (a: string) => string, clientDst: [number, () => string][], serverToNode: string[]): {from: Origin; src: string; dst: string} {
  const from = rng.weighted<Origin>([[5, 'client'], [2, 'server'], [3, 'local']])
  if (from === 'client') return {from, src: near(rng.pick(u.client)), dst: rng.weighted(clientDst)()}
  if (from === 'server') return {from, src: near(rng.pick(u.server)), dst: rng.chance(0.6) ? near(rng.pick(u.client)) : rng.pick(serverToNode)}
  // Locally generated traffic leaves the node (local → local would loop through lo and re-enter PREROUTING).
  return {from, src: rng.pick(u.nodeSrc), dst: near(rng.pick([...u.server, ...u.client]))}
}

function genPackets(rng: Rng, family: Family, u: Universe, seed: number, count: number): GenPacket[] {
  const near = (a: string) => (rng.chance(0.25) ? plusMinus(a, rng.pick([-1, 1])) : a)
  const port = () => {
    const p = rng.chance(0.8) ? rng.pick(u.ports) : rng.int(1024, 65000)
    return rng.chance(0.25) ? p + rng.pick([-1, 1]) : p
  }
  const out: GenPacket[] = []
  for (let i = 0; i < count; i++) {
    const {from, src, dst} = packetEnds(rng, u, near, [[5, () => near(rng.pick(u.server))], [3, () => rng.pick(u.node)], [1, () => near(rng.pick(u.client))]], u.node)
    const proto = rng.weighted([[5, PROTO.tcp], [3, PROTO.udp], [2, family === 4 ? PROTO.icmp : PROTO.icmpv6]])
    const p: GenPacket = {id: `${seed}.${i}`, from, family, proto, src, dst, mark: 0, tag: 0}
    if (proto === PROTO.tcp || proto === PROTO.udp) {
      p.sport = rng.chance(0.7) ? rng.int(32768, 60999) : port()
      p.dport = port()
    }
    if (proto === PROTO.tcp) p.tcpFlags = rng.weighted([[12, 0x02], [3, 0x10], [2, 0x12], [1, 0x11], [1, 0x04], [1, 0x18]])
    if (proto === PROTO.icmp || proto === PROTO.icmpv6) {
      const request = rng.chance(0.8)
      p.icmpType = family === 4 ? (request ? 8 : 0) : request ? 128 : 129
      p.icmpCode = 0
    }
    if (from === 'local') p.mark = rng.chance(0.5) ? 0 : rng.pick(MARKS)
    out.push(p)
  }
  return out
}

export function generateCase(seed: number, packetCount = 10): GenCase {
  const rng = new Rng(mulberry32(seed))
  const family: Family = rng.chance(0.3) ? 6 : 4
  const u = universe(rng, family)
  const sets = genSets(rng, family, u)
  let iptables = ''
  let changesSets = false
  for (const name of TABLES) {
    const hooks = hooksOf(name)
    const owned = ownedChains(rng, hooks, name[0].toUpperCase())
    const policies = Object.fromEntries(hooks.map((h) => [h, (name === 'filter' ? rng.chance(0.25) : rng.chance(0.05)) ? 'DROP' as const : 'ACCEPT' as const]))
    const ctxs: Ctx[] = []
    const rules = chainRules(rng, hooks, owned, {base: () => 4, user: 4}, (hook) => {
      const ctx: Ctx = {rng, family, u, table: name, hook, sets, changesSets: false}
      ctxs.push(ctx)
      return (chain, users, isBase) => rule(ctx, chain, users, isBase)
    })
    changesSets ||= ctxs.some((c) => c.changesSets)
    iptables += table(name, {policies, chains: [...owned.values()].flat(), rules})
  }
  const ipRules = rng.chance(0.4) ? [['fwmark', `${hx(POLICY_MARK)}/${hx(POLICY_MARK)}`, 'table', String(POLICY_TABLE), 'pref', '1000']] : []
  const packets = genPackets(rng, family, u, seed, packetCount)
  return {
    seed, family, iptables, ipsets: setsText(sets, family, false), ipsetReset: setsText(sets, family, true),
    ipRules, packets, changesSets,
  }
}

/** The engine's view of a generated packet. */
export function toPacketSpec(p: GenPacket, length: number): PacketSpec {
  return {
    id: p.id,
    family: p.family,
    proto: p.proto,
    src: parseAddr(p.src),
    dst: parseAddr(p.dst),
    sport: p.sport,
    dport: p.dport,
    tcpFlags: p.tcpFlags,
    icmpType: p.icmpType,
    icmpCode: p.icmpCode,
    iif: p.from === 'client' ? DEV.toClient : p.from === 'server' ? DEV.toServer : undefined,
    local: p.from === 'local',
    mark: p.mark,
    length,
    ttl: 64,
    tos: 0,
    pktType: 'unicast',
    fragment: false,
    assume: {},
  }
}

/** One line a human can read, e.g. `client tcp 10.98.1.5:40000 → 10.97.0.9:80 [SYN] mark 0x0`. */
export function describePacket(p: GenPacket): string {
  const port = (a: string, n?: number) => (n === undefined ? a : p.family === 6 ? `[${a}]:${n}` : `${a}:${n}`)
  const extra = p.tcpFlags !== undefined ? ` flags=0x${p.tcpFlags.toString(16)}` : p.icmpType !== undefined ? ` type=${p.icmpType}/${p.icmpCode}` : ''
  return `${p.id} from ${p.from}: ${p.proto === PROTO.tcp ? 'tcp' : p.proto === PROTO.udp ? 'udp' : 'icmp'} ${port(p.src, p.sport)} -> ${port(p.dst, p.dport)}${extra} mark=0x${p.mark.toString(16)}`
}
