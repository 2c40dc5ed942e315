/** Child of scripts/bench.ts: loads one dump, traces packets, prints one JSON line of measurements. */
import {readFileSync} from 'node:fs'
import {loadSnapshotFromFiles} from '../src/snapshot/live.ts'
import {Session} from '../src/engine/trace.ts'
import {toPacketSpec} from '../src/packet/spec.ts'

const [file, count] = process.argv.slice(2)
const text = readFileSync(file, 'utf8')
const t0 = performance.now()
const snapshot = loadSnapshotFromFiles(new Map([['iptables-save.txt', text]]), file)
const session = new Session(snapshot)
const loadMs = performance.now() - t0
const rules = [...(snapshot.iptables[4]?.tables.values() ?? [])].reduce((n, t) => n + [...t.chains.values()].reduce((m, c) => m + c.rules.length, 0), 0)

// Pick real targets from the dump: the last ClusterIP rule of KUBE-SERVICES (the worst case: every rule before it
// is evaluated) and the first NodePort.
const services = snapshot.iptables[4]?.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules ?? []
const lastSvc = [...services].reverse().find((r) => / -d \S+\/32 /.test(r.text))
const clusterIp = /-d (\S+)\/32/.exec(lastSvc?.text ?? '')?.[1] ?? '10.96.0.1'
const clusterPort = Number(/--dport (\d+)/.exec(lastSvc?.text ?? '')?.[1] ?? 80)
const nodePorts = snapshot.iptables[4]?.tables.get('nat')?.chains.get('KUBE-NODEPORTS')?.rules ?? []
const nodePort = Number(/--dport (\d+)/.exec(nodePorts[0]?.text ?? '')?.[1] ?? 30000)

const cases: Record<string, unknown> = {
  [`ClusterIP ${clusterIp}:${clusterPort}`]: {proto: 'tcp', src: '10.244.1.5', dst: clusterIp, dport: clusterPort, in: 'cni0'},
  [`NodePort :${nodePort}`]: {proto: 'tcp', src: '203.0.113.9', dst: '192.168.0.2', dport: nodePort, in: 'eth0'},
}
const perPacketMs: Record<string, number> = {}
const firstMs: Record<string, number> = {}
for (const [name, p] of Object.entries(cases)) {
  const spec = toPacketSpec(p, session.router)
  // The first packet also pays for parsing the rules it reaches (large dumps are parsed lazily) and for JIT warm-up.
  const t1 = performance.now()
  session.trace(spec)
  firstMs[name] = performance.now() - t1
  for (let i = 0; i < 50; i++) session.trace(spec) // warm-up
  const n = Number(count)
  const t = performance.now()
  for (let i = 0; i < n; i++) session.trace(spec)
  perPacketMs[name] = (performance.now() - t) / n
}
const maxRssMiB = process.resourceUsage().maxRSS / 1024
console.log(JSON.stringify({loadMs, maxRssMiB, perPacketMs, firstMs, rules}))
