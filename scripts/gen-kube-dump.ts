/**
 * Bench data: a kube-proxy (iptables mode) node dump at cluster scale, as `iptables-save -c` prints it.
 *
 *   node --import tsx scripts/gen-kube-dump.ts --services 30000 --endpoints 150000 --out FILE [--seed N] [--no-counters]
 *
 * Rule text follows kube-proxy's current writer (pkg/proxy/iptables/proxier.go; templates checked against
 * shared/corpus/kube-proxy/iptables-TestOverallIPTablesRules.json) re-ordered the way iptables-save 1.8.9
 * (nf_tables) prints a restored payload: chains sorted by name after the built-ins, `/32` on host addresses,
 * `! -s`/`-d`/`-p` before the matches, comments always quoted, `--or-mark X` as `--set-xmark X/X`,
 * `--xor-mark X` as `--set-xmark X/0x0`, and statistic probabilities as the kernel's u32 printed with 11 decimals.
 * Each service port gets KUBE-SVC-*, one KUBE-SEP-* per endpoint; ~5% are NodePorts (KUBE-NODEPORTS, KUBE-EXT-*),
 * ~0.3% have no endpoints (filter REJECT). The built-in chains jump into KUBE-* as on a real node, so a trace
 * walks the whole path. Deterministic for a given seed. Check it with:
 *   ip netns add T && time ip netns exec T iptables-restore --test < FILE; ip netns del T
 */
import {createHash} from 'node:crypto'
import {closeSync, openSync, statSync, writeSync} from 'node:fs'
import {parseArgs} from 'node:util'
import {fromBytes, parseCidr} from '../src/net/addr.ts'

const {values: opts} = parseArgs({
  options: {
    services: {type: 'string', default: '30000'},
    endpoints: {type: 'string', default: '150000'},
    out: {type: 'string'},
    seed: {type: 'string', default: '1'},
    'no-counters': {type: 'boolean', default: false},
  },
})
if (!opts.out) {
  console.error('usage: gen-kube-dump.ts --services N --endpoints M --out FILE [--seed N] [--no-counters]')
  process.exit(2)
}
const nServices = Number(opts.services)
const nEndpoints = Number(opts.endpoints)
if (!(nServices > 0) || !(nEndpoints >= nServices)) throw new Error('need --services > 0 and --endpoints >= --services')

// mulberry32: tiny, seedable, good enough to spread names and addresses.
let seed = Number(opts.seed) >>> 0
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]

// kube-proxy's chain names: base32(sha256(servicePortName + protocol [+ endpoint]))[:16]
// (pkg/proxy/iptables/proxier.go portProtoHash / servicePortEndpointChainName).
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
function hash16(s: string): string {
  const d = createHash('sha256').update(s).digest()
  let out = ''
  let bits = 0
  let acc = 0
  for (let i = 0; out.length < 16; i++) {
    acc = (acc << 8) | d[i]
    bits += 8
    while (bits >= 5 && out.length < 16) {
      out += B32[(acc >>> (bits - 5)) & 31]
      bits -= 5
    }
    acc &= 0xff
  }
  return out
}

const ipText = (u32: number): string =>
  fromBytes(4, Uint8Array.of(u32 >>> 24, (u32 >>> 16) & 0xff, (u32 >>> 8) & 0xff, u32 & 0xff)).text
const SERVICE_CIDR = parseCidr('10.96.0.0/12')
const CLUSTER_CIDR = parseCidr('10.244.0.0/14') // kube-proxy's local-traffic detector (`! -s CLUSTER_CIDR`)
const MASQ_BIT = '0x4000'

/** libxt_statistic stores lround(p * 2^31) and prints it back with %.11f; kube-proxy writes p with %0.10f. */
function probability(n: number): string {
  const p = Number((1 / n).toFixed(10))
  return (Math.round(p * 0x80000000) / 0x80000000).toFixed(11)
}

interface Port {proto: 'tcp' | 'udp'; port: number; target: number; name: string}
const PORTS: Port[] = [
  {proto: 'tcp', port: 80, target: 8080, name: 'http'},
  {proto: 'tcp', port: 443, target: 8443, name: 'https'},
  {proto: 'tcp', port: 8080, target: 8080, name: 'http'},
  {proto: 'tcp', port: 9090, target: 9090, name: 'metrics'},
  {proto: 'tcp', port: 5432, target: 5432, name: 'postgres'},
  {proto: 'tcp', port: 6379, target: 6379, name: 'redis'},
  {proto: 'tcp', port: 50051, target: 50051, name: 'grpc'},
  {proto: 'udp', port: 53, target: 53, name: 'dns'},
]
const APPS = ['api', 'web', 'auth', 'cart', 'search', 'billing', 'mail', 'cache', 'db', 'queue', 'gateway', 'report']

// Endpoint counts: one each, the rest spread at random (most services get a few, some many).
const noEndpoints = new Set<number>()
for (let i = 0; i < Math.floor(nServices * 0.003); i++) noEndpoints.add(Math.floor(rand() * nServices))
const counts = new Array<number>(nServices).fill(0)
const withEps = [...Array(nServices).keys()].filter((i) => !noEndpoints.has(i))
for (const i of withEps) counts[i] = 1
for (let left = nEndpoints - withEps.length; left > 0; left--) counts[pick(withEps)]++

const nodePorts = [...Array(2768).keys()].map((i) => 30000 + i)
for (let i = nodePorts.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1))
  ;[nodePorts[i], nodePorts[j]] = [nodePorts[j], nodePorts[i]]
}

// rules[chain] in writing order; chain declarations and rule groups are sorted when written (iptables-save does).
const nat = new Map<string, string[]>()
const filter = new Map<string, string[]>()
const add = (t: Map<string, string[]>, chain: string, rule: string) => {
  let rs = t.get(chain)
  if (!rs) t.set(chain, (rs = []))
  rs.push(`-A ${chain} ${rule}`)
}
const chain = (t: Map<string, string[]>, name: string) => {
  if (!t.has(name)) t.set(name, [])
}

// Built-in chain jumps (kube-proxy's iptablesJumpChains, kubelet's KUBE-FIREWALL) and the fixed chains.
for (const c of ['KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-KUBELET-CANARY', 'KUBE-NODEPORTS',
  'KUBE-PROXY-CANARY', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES']) chain(filter, c)
add(filter, 'INPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL')
add(filter, 'INPUT', '-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS')
add(filter, 'INPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES')
add(filter, 'INPUT', '-j KUBE-FIREWALL')
add(filter, 'FORWARD', '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL')
add(filter, 'FORWARD', '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD')
add(filter, 'FORWARD', '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
add(filter, 'FORWARD', '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES')
add(filter, 'OUTPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL')
add(filter, 'OUTPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
add(filter, 'OUTPUT', '-j KUBE-FIREWALL')
add(filter, 'KUBE-FIREWALL', '! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP')
// kube-proxy adds `-m nfacct --nfacct-name ct_state_invalid_dropped_pkts` here when nfacct objects exist; a dump
// that needs an nfacct object cannot be restored into a fresh namespace, so this is the form without it.
add(filter, 'KUBE-FORWARD', '-m conntrack --ctstate INVALID -j DROP')
add(filter, 'KUBE-FORWARD', `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ_BIT}/${MASQ_BIT} -j ACCEPT`)
add(filter, 'KUBE-FORWARD', '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT')

for (const c of ['KUBE-KUBELET-CANARY', 'KUBE-MARK-MASQ', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-PROXY-CANARY', 'KUBE-SERVICES']) chain(nat, c)
add(nat, 'PREROUTING', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
add(nat, 'OUTPUT', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
add(nat, 'POSTROUTING', '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING')
add(nat, 'KUBE-MARK-MASQ', `-j MARK --set-xmark ${MASQ_BIT}/${MASQ_BIT}`)
add(nat, 'KUBE-POSTROUTING', `-m mark ! --mark ${MASQ_BIT}/${MASQ_BIT} -j RETURN`)
add(nat, 'KUBE-POSTROUTING', `-j MARK --set-xmark ${MASQ_BIT}/0x0`)
add(nat, 'KUBE-POSTROUTING', '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully')

const podIp = (): number => {
  const host = CLUSTER_CIDR.v4net + Math.floor(rand() * 2 ** (32 - CLUSTER_CIDR.prefix))
  const last = host & 0xff
  return last < 2 || last > 254 ? podIp() : host >>> 0
}

for (let i = 0; i < nServices; i++) {
  const ns = `team-${String(i % 600).padStart(3, '0')}`
  const svc = `${pick(APPS)}-${i}`
  const port = pick(PORTS)
  const spn = `${ns}/${svc}${rand() < 0.3 ? `:${port.name}` : ''}` // ServicePortName.String(): port name only if set
  // Odd stride over 2^20 addresses: unique cluster IPs for up to a million services.
  const clusterIP = ipText((SERVICE_CIDR.v4net + ((i * 7919 + 10) % 2 ** 20)) >>> 0)
  const dst = `-d ${clusterIP}/32 -p ${port.proto}`
  const m = `-m ${port.proto} --dport ${port.port}`
  if (noEndpoints.has(i)) {
    add(filter, 'KUBE-SERVICES', `${dst} -m comment --comment "${spn} has no endpoints" ${m} -j REJECT --reject-with icmp-port-unreachable`)
    continue
  }
  const svcChain = `KUBE-SVC-${hash16(spn + port.proto)}`
  add(nat, 'KUBE-SERVICES', `${dst} -m comment --comment "${spn} cluster IP" ${m} -j ${svcChain}`)
  add(nat, svcChain, `! -s ${CLUSTER_CIDR.text} ${dst} -m comment --comment "${spn} cluster IP" ${m} -j KUBE-MARK-MASQ`)
  if (rand() < 0.05 && nodePorts.length) {
    const extChain = `KUBE-EXT-${hash16(spn + port.proto)}`
    add(nat, 'KUBE-NODEPORTS', `-p ${port.proto} -m comment --comment "${spn}" -m ${port.proto} --dport ${nodePorts.pop()} -j ${extChain}`)
    add(nat, extChain, `-m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`)
    add(nat, extChain, `-j ${svcChain}`)
  }
  const n = counts[i]
  const seen = new Set<number>()
  for (let e = 0; e < n; e++) {
    let ip = podIp()
    while (seen.has(ip)) ip = podIp()
    seen.add(ip)
    const ep = `${ipText(ip)}:${port.target}`
    const sepChain = `KUBE-SEP-${hash16(spn + port.proto + ep)}`
    const stat = e < n - 1 ? ` -m statistic --mode random --probability ${probability(n - e)}` : ''
    add(nat, svcChain, `-m comment --comment "${spn} -> ${ep}"${stat} -j ${sepChain}`)
    add(nat, sepChain, `-s ${ipText(ip)}/32 -m comment --comment "${spn}" -j KUBE-MARK-MASQ`)
    add(nat, sepChain, `-p ${port.proto} -m comment --comment "${spn}" -m ${port.proto} -j DNAT --to-destination ${ep}`)
  }
}
add(nat, 'KUBE-SERVICES', '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')

// Writing: iptables-save's layout per table.
const STAMP = 'Thu Jan  1 00:00:00 2026'
const counters = !opts['no-counters']
const fd = openSync(opts.out, 'w')
let buf: string[] = []
let lines = 0
const emit = (l: string) => {
  buf.push(l)
  lines++
  if (buf.length >= 20000) flush()
}
const flush = () => {
  writeSync(fd, buf.join('\n') + '\n')
  buf = []
}
function table(name: string, builtins: string[], t: Map<string, string[]>) {
  emit(`# Generated by iptables-save v1.8.9 (nf_tables) on ${STAMP}`)
  emit(`*${name}`)
  const user = [...t.keys()].filter((c) => !builtins.includes(c)).sort()
  for (const b of builtins) emit(`:${b} ACCEPT [0:0]`)
  for (const c of user) emit(`:${c} - [0:0]`)
  for (const c of [...builtins, ...user]) for (const r of t.get(c) ?? []) emit(counters ? `[0:0] ${r}` : r)
  emit('COMMIT')
  emit(`# Completed on ${STAMP}`)
}
table('filter', ['INPUT', 'FORWARD', 'OUTPUT'], filter)
table('nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'], nat)
flush()
closeSync(fd)
const bytes = statSync(opts.out).size
console.log(`${opts.out}: ${lines} lines, ${(bytes / 1e6).toFixed(1)} MB (${nServices} services, ${nEndpoints} endpoints, seed ${opts.seed})`)
