/** Child of scripts/bench.ts: loads one dump, traces packets, prints one JSON line of measurements. */
import {readFileSync} from 'node:fs'
import {loadSnapshotFromFiles} from '../src/snapshot/live.ts'
import {Session} from '../src/engine/trace.ts'
import {toPacketSpec} from '../src/packet/spec.ts'

const [file, count] = process.argv.slice(2)
const text = readFileSync(file, 'utf8')
const t0 = performance.now()
// The node around the dump: its address (so NodePort's `addrtype LOCAL` holds), a pod bridge and a default route.
const node = {
  'ip-addr.json': JSON.stringify([
    {ifindex: 1, ifname: 'lo', flags: ['UP'], operstate: 'UNKNOWN', addr_info: [{family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host'}]},
    {ifindex: 2, ifname: 'eth0', flags: ['UP'], operstate: 'UP', addr_info: [{family: 'inet', local: '192.168.0.2', prefixlen: 24, scope: 'global'}]},
    {ifindex: 3, ifname: 'cni0', flags: ['UP'], operstate: 'UP', addr_info: [{family: 'inet', local: '10.244.1.1', prefixlen: 24, scope: 'global'}]},
  ]),
  'ip-route.json': JSON.stringify([
    {dst: 'default', gateway: '192.168.0.1', dev: 'eth0', flags: []},
    {dst: '192.168.0.0/24', dev: 'eth0', scope: 'link', prefsrc: '192.168.0.2', flags: []},
    {dst: '10.244.1.0/24', dev: 'cni0', scope: 'link', prefsrc: '10.244.1.1', flags: []},
    {type: 'local', dst: '192.168.0.2', dev: 'eth0', table: 'local', scope: 'host', prefsrc: '192.168.0.2', flags: []},
    {type: 'local', dst: '10.244.1.1', dev: 'cni0', table: 'local', scope: 'host', prefsrc: '10.244.1.1', flags: []},
    {type: 'local', dst: '127.0.0.0/8', dev: 'lo', table: 'local', scope: 'host', prefsrc: '127.0.0.1', flags: []},
  ]),
  'sysctl.txt': 'net.ipv4.ip_forward = 1\n',
}
const snapshot = loadSnapshotFromFiles(new Map([['iptables-save.txt', text], ...Object.entries(node)]), file)
const session = new Session(snapshot)
const loadMs = performance.now() - t0
const rules = [...(snapshot.iptables[4]?.tables.values() ?? [])].reduce((n, t) => n + [...t.chains.values()].reduce((m, c) => m + c.rules.length, 0), 0)

// Pick real targets from the dump: the last ClusterIP rule of KUBE-SERVICES (the worst case: every rule before it
// is evaluated) and the first NodePort.
const services = snapshot.iptables[4]?.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules ?? []
const lastSvc = [...services].reverse().find((r) => / -d \S+\/32 /.test(r.text) && / -j KUBE-SVC-/.test(r.text))
const clusterIp = /-d (\S+)\/32/.exec(lastSvc?.text ?? '')?.[1] ?? '10.96.0.1'
const clusterPort = Number(/--dport (\d+)/.exec(lastSvc?.text ?? '')?.[1] ?? 80)
const clusterProto = / -p (tcp|udp|sctp) /.exec(lastSvc?.text ?? '')?.[1] ?? 'tcp'
const nodePorts = snapshot.iptables[4]?.tables.get('nat')?.chains.get('KUBE-NODEPORTS')?.rules ?? []
const nodePort = Number(/--dport (\d+)/.exec(nodePorts[0]?.text ?? '')?.[1] ?? 30000)
const nodeProto = / -p (tcp|udp|sctp) /.exec(nodePorts[0]?.text ?? '')?.[1] ?? 'tcp'

const cases: Record<string, unknown> = {
  [`ClusterIP ${clusterProto} ${clusterIp}:${clusterPort}`]: {proto: clusterProto, src: '10.244.1.5', dst: clusterIp, dport: clusterPort, in: 'cni0'},
  [`NodePort ${nodeProto} :${nodePort}`]: {proto: nodeProto, src: '203.0.113.9', dst: '192.168.0.2', dport: nodePort, in: 'eth0'},
}
const perPacketMs: Record<string, number> = {}
const firstMs: Record<string, number> = {}
const paths: Record<string, number> = {}
for (const [name, p] of Object.entries(cases)) {
  const spec = toPacketSpec(p, session.router)
  // The first packet also pays for parsing the rules it reaches (large dumps are parsed lazily) and for JIT warm-up.
  const t1 = performance.now()
  const first = session.trace(spec)
  firstMs[name] = performance.now() - t1
  // A measurement of a packet that misses the service would flatter the engine: it must reach an endpoint.
  const dnat = first.outcomes.filter((o) => o.steps.some((e) => e.type === 'nat' && e.kind === 'dnat'))
  if (dnat.length !== first.outcomes.length) throw new Error(`${name}: not every path is DNATed to an endpoint`)
  paths[name] = first.outcomes.length
  for (let i = 0; i < 50; i++) session.trace(spec) // warm-up
  const n = Number(count)
  const t = performance.now()
  for (let i = 0; i < n; i++) session.trace(spec)
  perPacketMs[name] = (performance.now() - t) / n
}
const maxRssMiB = process.resourceUsage().maxRSS / 1024
console.log(JSON.stringify({loadMs, maxRssMiB, perPacketMs, firstMs, paths, rules}))
