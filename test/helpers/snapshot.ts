/** Snapshots for engine tests, from the same file texts a real snapshot directory holds. */
import {loadSnapshotFromFiles} from '../../src/snapshot/live.ts'
import type {Snapshot} from '../../src/model/snapshot.ts'
import {Session} from '../../src/engine/trace.ts'
import {toPacketSpec, parsePacketLine} from '../../src/packet/spec.ts'
import type {TraceResult} from '../../src/engine/api.ts'
import type {StepEvent} from '../../src/engine/events.ts'
import {BUILTIN_CHAINS} from '../../src/parse/iptables-save.ts'

export function snapshotOf(files: Record<string, string | object>): Snapshot {
  const m = new Map<string, string>()
  for (const [k, v] of Object.entries(files)) m.set(k, typeof v === 'string' ? v : JSON.stringify(v))
  return loadSnapshotFromFiles(m, 'test')
}

/** `ip -j addr`-shaped interface list: name → addresses with prefix. */
export function addrJson(ifaces: Record<string, string[]>): object[] {
  return Object.entries(ifaces).map(([name, addrs], i) => ({
    ifindex: i + 1, ifname: name, flags: ['UP'], operstate: 'UP', link_type: name === 'lo' ? 'loopback' : 'ether',
    addr_info: addrs.map((a) => {
      const [local, prefixlen] = a.split('/')
      return {family: local.includes(':') ? 'inet6' : 'inet', local, prefixlen: Number(prefixlen), scope: name === 'lo' ? 'host' : 'global'}
    }),
  }))
}

export function trace(session: Session, line: string, extra: Record<string, unknown> = {}): TraceResult {
  return session.trace(toPacketSpec({...parsePacketLine(line), ...extra}, session.router))
}

export function matchedRules(steps: StepEvent[]): string[] {
  return steps.flatMap((s) => (s.type === 'rule' && s.matched ? [`${s.table}/${s.chain}#${s.rule.index}`] : []))
}

/** `ip -j route` objects from `ip route`-style lines (`local 10.0.0.1 dev eth0 table local`, `default via … dev …`). */
export function routeJson(lines: string[]): object[] {
  return lines.map((line) => {
    const w = line.split(/\s+/)
    const o: Record<string, unknown> = {flags: []}
    let i = 0
    if (['local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', 'throw'].includes(w[0])) o.type = w[i++]
    o.dst = w[i++]
    for (; i < w.length; i += 2) {
      const k = {via: 'gateway', dev: 'dev', table: 'table', src: 'prefsrc', metric: 'metric', scope: 'scope'}[w[i]]
      if (!k) throw new Error(`routeJson: ${w[i]}`)
      o[k] = k === 'metric' ? Number(w[i + 1]) : w[i + 1]
    }
    return o
  })
}

/**
 * One iptables-save table: `*name`, its built-in chains (policy ACCEPT unless `policies` says otherwise), the user
 * chains declared in the order given, the rules, COMMIT. Tables concatenate into a whole dump.
 */
export function table(name: string, t: {policies?: Record<string, 'ACCEPT' | 'DROP'>; chains?: string[]; rules?: string[]} = {}): string {
  const builtin = BUILTIN_CHAINS[name]
  if (!builtin) throw new Error(`table: no table ${name}`)
  for (const c of Object.keys(t.policies ?? {})) if (!builtin.includes(c)) throw new Error(`table: ${c} is not a built-in chain of ${name}`)
  const decl = [...builtin.map((c) => `:${c} ${t.policies?.[c] ?? 'ACCEPT'} [0:0]`), ...(t.chains ?? []).map((c) => `:${c} - [0:0]`)]
  return [`*${name}`, ...decl, ...(t.rules ?? []), 'COMMIT', ''].join('\n')
}

/** A node with pods: uplink eth0 192.0.2.10/24 (default via 192.0.2.1), pod bridge cni0 10.244.0.1/24, forwarding on. */
export const POD_NODE: Readonly<Record<string, string | object>> = {
  'ip-addr.json': addrJson({lo: ['127.0.0.1/8'], eth0: ['192.0.2.10/24'], cni0: ['10.244.0.1/24']}),
  'ip-route.json': routeJson([
    'default via 192.0.2.1 dev eth0',
    '192.0.2.0/24 dev eth0 scope link',
    '10.244.0.0/24 dev cni0 scope link',
    'local 192.0.2.10 dev eth0 table local',
    'local 10.244.0.1 dev cni0 table local',
  ]),
  'sysctl.txt': 'net.ipv4.ip_forward = 1\n',
}
