/** Builders for unit tests of matches and targets: a packet state and an evaluation context from a few fields. */
import {parseAddr} from '../../src/net/addr.ts'
import type {CtView, EvalContext, PacketState, Router, World} from '../../src/engine/state.ts'
import type {HookName} from '../../src/model/ruleset.ts'
import type {IpSet} from '../../src/model/ipset.ts'
import {PROTO} from '../../src/model/packet.ts'

export interface PacketFields extends Partial<Omit<PacketState, 'src' | 'dst' | 'proto'>> {
  src?: string
  dst?: string
  proto?: keyof typeof PROTO | number
}

export function packet(f: PacketFields = {}): PacketState {
  const src = parseAddr(f.src ?? (f.family === 6 ? '2001:db8::1' : '10.0.0.1'))
  const dst = parseAddr(f.dst ?? (src.family === 6 ? '2001:db8::2' : '10.0.0.2'))
  const proto = typeof f.proto === 'string' ? PROTO[f.proto] : (f.proto ?? PROTO.tcp)
  return {
    pktType: 'unicast', fragment: false, local: false, mark: 0, length: 60, ttl: 64, tos: 0, assume: {},
    ...(proto === PROTO.tcp ? {sport: 40000, dport: 80, tcpFlags: 0x02} : proto === PROTO.udp || proto === PROTO.sctp ? {sport: 40000, dport: 53} : {}),
    iif: f.local ? undefined : 'eth0',
    ...f,
    family: src.family, proto, src, dst,
  } as PacketState
}

/** A conntrack view for a packet (original direction, NEW unless given). */
export function ct(pkt: PacketState, f: Partial<CtView> = {}): CtView {
  const orig = {proto: pkt.proto, src: pkt.src, dst: pkt.dst, sport: pkt.sport, dport: pkt.dport}
  const reply = {proto: pkt.proto, src: pkt.dst, dst: pkt.src, sport: pkt.dport, dport: pkt.sport}
  return {state: 'NEW', dir: 'ORIGINAL', status: 0, mark: 0, zone: 0, orig, reply, origin: 'new', ...f}
}

/** A router that knows a set of local addresses (every other address is unicast via eth0). */
export function fakeRouter(local: string[] = [], over: Partial<Router> = {}): Router {
  const locals = new Set(local.map((a) => parseAddr(a).text))
  return {
    lookup: (q) => locals.has(q.dst.text)
      ? {type: 'local', dev: 'lo', table: 'local', rules: [], explanation: `${q.dst.text} is local`}
      : {type: 'unicast', dev: 'eth0', table: 'main', rules: [], explanation: 'default via eth0'},
    addrType: (a) => (locals.has(a.text) ? 2 : 1),
    deviceAddrs: () => [],
    deviceGroup: () => undefined,
    rpFilter: () => 0,
    hasDevice: () => true,
    ...over,
  }
}

export interface CtxFields {
  hook?: HookName
  table?: string
  chain?: string
  router?: Router
  sets?: Record<string, IpSet>
  sysctl?: Record<string, string>
  /** Answers for random decisions, in order (default: always true). */
  choices?: boolean[]
}

export function ctx(pkt: PacketState, f: CtxFields = {}): EvalContext {
  const counters = new Map<object, number>()
  const choices = [...(f.choices ?? [])]
  const world: World = {
    router: f.router ?? fakeRouter(),
    set: (name) => f.sets?.[name],
    counter: (key, init) => {
      const fresh = !counters.has(key)
      if (fresh) counters.set(key, init())
      return {get: () => counters.get(key)!, set: (v) => void counters.set(key, v), fresh}
    },
    choose: () => choices.shift() ?? true,
    sysctl: (k) => f.sysctl?.[k],
  }
  const hook = f.hook ?? 'INPUT'
  return {pkt, family: pkt.family, hook, table: f.table ?? 'filter', chain: f.chain ?? hook, world}
}
