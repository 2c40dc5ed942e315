/**
 * Seeded NAT cases for the kernel-differential NAT suite. Three shapes, same seed → same case:
 *
 *  - `nat`: random nat-table rulesets (DNAT to an address, address:port, address and port ranges; SNAT with ranges,
 *    --random/--random-fully/--persistent; MASQUERADE with and without --to-ports; REDIRECT; NETMAP; user chains,
 *    RETURN, gotos) with the match vocabulary of generator.ts, and packets aimed at the rules' addresses and ports.
 *  - `kube`: kube-proxy's iptables mode in miniature (KUBE-SERVICES → KUBE-SVC-* with `statistic random` →
 *    KUBE-SEP-* DNAT, KUBE-MARK-MASQ 0x4000, KUBE-POSTROUTING RETURN / --xor-mark / MASQUERADE --random-fully,
 *    NodePorts through `addrtype --dst-type LOCAL`). Pods live on the client side (CLIENT_POOL is the pod CIDR).
 *  - `docker`: dockerd's rules with the client side standing in for docker0 (nc0) and the client pool for
 *    172.17.0.0/16 (no bridge here: the rules only name the device and the subnet).
 *
 * DNAT endpoints are pool addresses no namespace owns: the server/client namespaces drop what is forwarded to them
 * silently (no forwarding there) instead of answering with a RST that would change the connection.
 * Packets marked `conversation` are run as flows by the test (SYN → SYN-ACK → ACK → ICMP error; UDP: → reply →
 * ICMP error) when the kernel forwards their first packet.
 */
import {PROTO} from '../../src/model/packet.ts'
import {fromBytes, parseAddr, type Family} from '../../src/net/addr.ts'
import {DEV, NET} from './netns.ts'
import {chainRules, hooksOf, hostIn, hx, matches, mulberry32, ownedChains, packetEnds, plusMinus, Rng, universe, type Ctx, type GenCase, type GenPacket, type Origin, type Universe} from './generator.ts'
import {table} from '../helpers/snapshot.ts'

export type NatShape = 'nat' | 'kube' | 'docker'

export interface NatPacket extends GenPacket {
  /** Run as a conversation (the test continues the flow when the kernel forwarded this first packet). */
  conversation?: boolean
}

export interface NatCase extends GenCase {
  shape: NatShape
  packets: NatPacket[]
}

/** Addresses SNAT/NETMAP map sources to and services live on: routed nowhere in particular (NAT happens first). */
const POOL = {4: {snat: '10.95.0.0/16', svc: '10.94.0.0/16'}, 6: {snat: 'fd95::/48', svc: 'fd94::/48'}} as const
/** kube-proxy's masquerade bit. */
export const MASQ_MARK = 0x4000

function bracket(family: Family, addr: string, port?: string): string {
  if (port === undefined) return addr
  return family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`
}

/** The network of an address with its last byte(s) cleared: /24 or /16 (IPv6 /120 or /112). */
function netOf(family: Family, addr: string, wide: boolean): string {
  const b = new Uint8Array(parseAddr(addr).bytes)
  b[b.length - 1] = 0
  if (wide) b[b.length - 2] = 0
  const len = family === 4 ? (wide ? 16 : 24) : wide ? 112 : 120
  return `${fromBytes(family, b).text}/${len}`
}

interface Pools {
  /** DNAT endpoints. */
  endpoints: string[]
  /** SNAT sources. */
  sources: string[]
}

/** `--to-destination`/`--to-source` argument: an address or a range, with an optional port or port range. */
function natTo(c: Ctx, addrs: string[], ports: boolean): string {
  const {rng} = c
  const a = rng.pick(addrs)
  const addr = rng.chance(0.25) ? `${a}-${plusMinus(a, rng.int(1, 3))}` : a
  if (!ports || !rng.chance(0.6)) return addr
  const p = rng.pick(c.u.ports)
  return bracket(c.family, addr, rng.chance(0.6) ? String(p) : `${p}-${p + rng.int(1, 4)}`)
}

function toPorts(c: Ctx): string {
  const p = c.rng.pick(c.u.ports)
  return c.rng.chance(0.6) ? String(p) : `${p}-${p + c.rng.int(1, 4)}`
}

function natTarget(c: Ctx, pools: Pools, users: string[], isBase: boolean, proto?: string): string {
  const {rng, family} = c
  const ported = proto === 'tcp' || proto === 'udp'
  const dstHook = c.hook === 'PREROUTING' || c.hook === 'OUTPUT'
  const random = () => rng.weighted([[3, ''], [1, ' --random'], [1, ' --random-fully']])
  const options: [number, () => string][] = [
    [0.6, () => '-j ACCEPT'],
    [isBase ? 0.3 : 1.5, () => '-j RETURN'],
    [0.4, () => `-j MARK --set-xmark ${hx(rng.pick([0x1, 0x10, MASQ_MARK]))}/${hx(0xffffffff)}`],
    [1, () => `-j NETMAP --to ${netOf(family, rng.pick(dstHook ? pools.endpoints : pools.sources), rng.chance(0.3))}`],
  ]
  if (users.length) options.push([2.5, () => `${rng.chance(0.75) ? '-j' : '-g'} ${rng.pick(users)}`])
  if (dstHook) {
    options.push([4, () => `-j DNAT --to-destination ${natTo(c, pools.endpoints, ported)}`])
    options.push([1.5, () => `-j REDIRECT${ported && rng.chance(0.6) ? ` --to-ports ${toPorts(c)}` : ''}${ported && rng.chance(0.15) ? ' --random' : ''}`])
  } else {
    options.push([3, () => `-j SNAT --to-source ${natTo(c, [...pools.sources, ...c.u.nodeSrc], ported)}${random()}${rng.chance(0.1) ? ' --persistent' : ''}`])
    if (c.hook === 'POSTROUTING') {
      options.push([3, () => `-j MASQUERADE${ported && rng.chance(0.4) ? ` --to-ports ${toPorts(c)}` : ''}${random()}`])
    }
  }
  return rng.weighted(options)()
}

function natRule(c: Ctx, pools: Pools, chain: string, users: string[], isBase: boolean): string {
  const m = matches(c)
  return [`-A ${chain}`, ...m.text, natTarget(c, pools, users, isBase, m.proto)].join(' ')
}

function natRuleset(rng: Rng, family: Family, u: Universe, pools: Pools): string {
  const hooks = hooksOf('nat')
  const owned = ownedChains(rng, hooks, 'N')
  const rules = chainRules(rng, hooks, owned, {base: (hook) => (hook === 'INPUT' ? 2 : 4), user: 3}, (hook) => {
    const c: Ctx = {rng, family, u, table: 'nat', hook, sets: [], changesSets: false}
    return (chain, users, isBase) => natRule(c, pools, chain, users, isBase)
  })
  return table('nat', {chains: [...owned.values()].flat(), rules})
}

/** Ports of the rules' text (--dport, --to-ports, NAT targets' ports), so packets land in, next to, and outside ranges. */
function rulePorts(text: string): number[] {
  const re = /--(?:dports?|sports?) ([\d,:]+)|--to-ports (\d+)(?:-(\d+))?|--to-(?:destination|source) (?:\[[^\]]+\]|[\d.-]+):(\d+)(?:-(\d+))?/g
  return [...text.matchAll(re)].flatMap((m) => m.slice(1).filter(Boolean).flatMap((x) => x.split(/[,:]/).map(Number))).filter((n) => n > 1 && n < 65535)
}

function packet(rng: Rng, family: Family, id: string, from: Origin, src: string, dst: string, proto: number, dport: number): NatPacket {
  const p: NatPacket = {id, from, family, proto, src, dst, mark: 0, tag: 0}
  if (proto === PROTO.tcp || proto === PROTO.udp) {
    p.sport = rng.chance(0.8) ? rng.int(32768, 60999) : rng.pick([80, 1000, 600])
    p.dport = dport
  }
  if (proto === PROTO.tcp) p.tcpFlags = 0x02
  if (proto === PROTO.icmp || proto === PROTO.icmpv6) {
    p.icmpType = family === 4 ? 8 : 128
    p.icmpCode = 0
  }
  return p
}

function natPackets(rng: Rng, family: Family, u: Universe, pools: Pools, iptables: string, seed: number, count: number): NatPacket[] {
  const ports = [...u.ports, ...rulePorts(iptables)]
  const near = (a: string) => (rng.chance(0.2) ? plusMinus(a, rng.pick([-1, 1])) : a)
  const out: NatPacket[] = []
  for (let i = 0; i < count; i++) {
    const {from, src, dst} = packetEnds(rng, u, near, [[5, () => near(rng.pick(u.server))], [2, () => rng.pick(u.node)], [1, () => rng.pick(pools.endpoints)]], [...u.node, NET[family].server.node])
    const proto = rng.weighted([[5, PROTO.tcp], [3, PROTO.udp], [1, family === 4 ? PROTO.icmp : PROTO.icmpv6]])
    const p = packet(rng, family, `${seed}.${i}`, from, src, dst, proto, rng.pick(ports) + (rng.chance(0.2) ? rng.pick([-1, 1]) : 0))
    if (from === 'local' && rng.chance(0.3)) p.mark = rng.pick([0x1, 0x10])
    p.conversation = from !== 'local' && proto !== PROTO.icmp && proto !== PROTO.icmpv6 && rng.chance(0.4)
    out.push(p)
  }
  return out
}

function natShape(rng: Rng, seed: number, family: Family, count: number): Omit<NatCase, 'shape'> {
  const u = universe(rng, family)
  const n = NET[family]
  const pools: Pools = {
    endpoints: [hostIn(rng, family, n.serverPool), hostIn(rng, family, n.serverPool), hostIn(rng, family, n.clientPool)],
    sources: [hostIn(rng, family, POOL[family].snat), hostIn(rng, family, POOL[family].snat)],
  }
  const iptables = natRuleset(rng, family, u, pools)
  return empty(seed, family, iptables, natPackets(rng, family, u, pools, iptables, seed, count))
}

function empty(seed: number, family: Family, iptables: string, packets: NatPacket[]): Omit<NatCase, 'shape'> {
  return {seed, family, iptables, ipsets: '', ipsetReset: '', ipRules: [], packets, changesSets: false}
}

/** kube-proxy (pkg/proxy/iptables/proxier.go) for a few services; statistic probabilities as it writes them. */
function kubeShape(rng: Rng, seed: number, family: Family, count: number): Omit<NatCase, 'shape'> {
  const n = NET[family]
  const chains = ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-NODEPORTS']
  const rules: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${hx(MASQ_MARK)}`,
    `-A KUBE-POSTROUTING -m mark ! --mark ${hx(MASQ_MARK)}/${hx(MASQ_MARK)} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${hx(MASQ_MARK)}`,
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ]
  const podCidr = n.clientPool
  const services: {ip: string; port: number; proto: 'tcp' | 'udp'; nodePort?: number; eps: string[]}[] = []
  const nSvc = rng.int(1, 3)
  const clients = [hostIn(rng, family, n.clientPool), hostIn(rng, family, n.clientPool)]
  for (let s = 0; s < nSvc; s++) {
    const proto = rng.chance(0.75) ? 'tcp' : 'udp'
    const svc = {ip: hostIn(rng, family, POOL[family].svc), port: rng.pick([80, 443, 53, 8080]), proto, nodePort: rng.chance(0.5) ? 30000 + rng.int(0, 2767) : undefined, eps: [] as string[]} as (typeof services)[number]
    const nEp = rng.int(0, 3)
    // Endpoints: remote pods (server side) and, sometimes, one of the client pods itself (hairpin).
    for (let e = 0; e < nEp; e++) svc.eps.push(rng.chance(0.25) ? rng.pick(clients) : hostIn(rng, family, n.serverPool))
    services.push(svc)
    const id = `${s}ABCDEF${seed % 1000}`.slice(0, 16)
    const svcChain = `KUBE-SVC-${id}`
    const len = family === 4 ? 32 : 128
    const name = `ns/svc${s}:p`
    if (!svc.eps.length) {
      // No endpoints: kube-proxy rejects in filter KUBE-SERVICES; nat has nothing for the service.
      continue
    }
    chains.push(svcChain)
    rules.push(`-A KUBE-SERVICES -d ${svc.ip}/${len} -p ${proto} -m comment --comment "${name} cluster IP" -m ${proto} --dport ${svc.port} -j ${svcChain}`)
    rules.push(`-A ${svcChain} ! -s ${podCidr} -d ${svc.ip}/${len} -p ${proto} -m comment --comment "${name} cluster IP" -m ${proto} --dport ${svc.port} -j KUBE-MARK-MASQ`)
    if (svc.nodePort) {
      const ext = `KUBE-EXT-${id}`
      chains.push(ext)
      rules.push(`-A KUBE-NODEPORTS -p ${proto} -m comment --comment "${name}" -m ${proto} --dport ${svc.nodePort} -j ${ext}`)
      rules.push(`-A ${ext} -m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`)
      rules.push(`-A ${ext} -j ${svcChain}`)
    }
    svc.eps.forEach((ep, i) => {
      const sep = `KUBE-SEP-${id.slice(0, 12)}${i}`
      if (!chains.includes(sep)) chains.push(sep)
      const left = svc.eps.length - i
      const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : ''
      rules.push(`-A ${svcChain} -m comment --comment "${name} -> ${bracket(family, ep, '8080')}"${stat} -j ${sep}`)
      rules.push(`-A ${sep} -s ${ep}/${len} -m comment --comment "${name}" -j KUBE-MARK-MASQ`)
      rules.push(`-A ${sep} -p ${proto} -m comment --comment "${name}" -m ${proto} -j DNAT --to-destination ${bracket(family, ep, '8080')}`)
    })
  }
  rules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
  const filter = table('filter', {chains: ['KUBE-FORWARD'], rules: [
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${hx(MASQ_MARK)}/${hx(MASQ_MARK)} -j ACCEPT`,
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ]})
  const iptables = filter + table('nat', {chains, rules})
  const packets: NatPacket[] = []
  for (let i = 0; i < count; i++) {
    const svc = rng.pick(services)
    const proto = svc.proto === 'tcp' ? PROTO.tcp : PROTO.udp
    const kind = rng.weighted<'pod' | 'outside' | 'nodeport' | 'local'>([[4, 'pod'], [2, 'outside'], [svc.nodePort ? 3 : 0, 'nodeport'], [2, 'local']])
    const port = rng.chance(0.85) ? svc.port : svc.port + 1
    let p: NatPacket
    if (kind === 'pod') p = packet(rng, family, `${seed}.${i}`, 'client', rng.pick(clients), svc.ip, proto, port)
    else if (kind === 'outside') p = packet(rng, family, `${seed}.${i}`, 'server', hostIn(rng, family, n.serverPool), svc.ip, proto, port)
    else if (kind === 'nodeport') {
      const from: Origin = rng.chance(0.5) ? 'server' : 'client'
      const src = from === 'server' ? hostIn(rng, family, n.serverPool) : rng.pick(clients)
      p = packet(rng, family, `${seed}.${i}`, from, src, from === 'server' ? n.server.node : n.client.node, proto, rng.chance(0.85) ? svc.nodePort! : 30000)
    } else p = packet(rng, family, `${seed}.${i}`, 'local', n.server.node, svc.ip, proto, port)
    p.conversation = p.from !== 'local' && rng.chance(0.5)
    packets.push(p)
  }
  return empty(seed, family, iptables, packets)
}

/** dockerd (libnetwork iptables.go) with one published port per container; nc0 plays docker0. */
function dockerShape(rng: Rng, seed: number, family: Family, count: number): Omit<NatCase, 'shape'> {
  const n = NET[family]
  const br = DEV.toClient
  const subnet = n.clientPool
  const len = family === 4 ? 32 : 128
  const containers = [hostIn(rng, family, n.clientPool), hostIn(rng, family, n.clientPool)]
  const published = containers.map((c, i) => ({c, host: rng.pick([8080, 8443, 2222]) + i, port: rng.pick([80, 443, 22]), proto: rng.chance(0.8) ? 'tcp' : 'udp'}))
  const loopback = family === 4 ? '127.0.0.0/8' : '::1/128'
  const iptables = table('nat', {chains: ['DOCKER'], rules: [
    '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    `-A OUTPUT ! -d ${loopback} -m addrtype --dst-type LOCAL -j DOCKER`,
    `-A POSTROUTING -s ${subnet} ! -o ${br} -j MASQUERADE`,
    ...published.map((x) => `-A POSTROUTING -s ${x.c}/${len} -d ${x.c}/${len} -p ${x.proto} -m ${x.proto} --dport ${x.port} -j MASQUERADE`),
    `-A DOCKER -i ${br} -j RETURN`,
    ...published.map((x) => `-A DOCKER ! -i ${br} -p ${x.proto} -m ${x.proto} --dport ${x.host} -j DNAT --to-destination ${bracket(family, x.c, String(x.port))}`),
  ]})
  const packets: NatPacket[] = []
  for (let i = 0; i < count; i++) {
    const x = rng.pick(published)
    const proto = x.proto === 'tcp' ? PROTO.tcp : PROTO.udp
    const kind = rng.weighted<'published' | 'outbound' | 'local' | 'hairpin'>([[4, 'published'], [3, 'outbound'], [2, 'local'], [1, 'hairpin']])
    const hostPort = rng.chance(0.85) ? x.host : x.host + 1
    let p: NatPacket
    if (kind === 'published') p = packet(rng, family, `${seed}.${i}`, 'server', hostIn(rng, family, n.serverPool), rng.pick([n.server.node, n.nodeExtra]), proto, hostPort)
    else if (kind === 'outbound') p = packet(rng, family, `${seed}.${i}`, 'client', rng.pick(containers), hostIn(rng, family, n.serverPool), proto, rng.pick([80, 443, 53]))
    else if (kind === 'local') p = packet(rng, family, `${seed}.${i}`, 'local', n.server.node, rng.pick([n.server.node, n.nodeExtra]), proto, hostPort)
    else p = packet(rng, family, `${seed}.${i}`, 'client', rng.pick(containers), n.client.node, proto, hostPort)
    p.conversation = p.from !== 'local' && rng.chance(0.5)
    packets.push(p)
  }
  return empty(seed, family, iptables, packets)
}

/** The case of a seed: its shape is fixed by the caller, family by the seed. */
export function generateNatCase(shape: NatShape, seed: number, packetCount = 8): NatCase {
  const rng = new Rng(mulberry32(seed * 7919 + {nat: 1, kube: 2, docker: 3}[shape]))
  const family: Family = rng.chance(0.3) ? 6 : 4
  const gen = {nat: natShape, kube: kubeShape, docker: dockerShape}[shape]
  return {shape, ...gen(rng, seed, family, packetCount)}
}
