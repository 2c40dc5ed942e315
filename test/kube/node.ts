/**
 * Builds a throwaway "Kubernetes node" network namespace per kube-proxy corpus file, loads the file's dump there
 * with the jump rules kube-proxy installs outside its restore payload, and collects it with collectLive so the
 * engine sees exactly what the kernel accepted. Then maps the engine's full-path outcomes onto what Kubernetes'
 * tracer reports (endpoints in rule order / DROP / REJECT / ACCEPT, masq). See README.md for the why of each choice.
 */
import {execFile} from 'node:child_process'
import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Snapshot} from '../../src/model/snapshot.ts'
import {collectLive, loadSnapshotFromFiles} from '../../src/snapshot/live.ts'
import type {Outcome, TraceResult} from '../../src/engine/api.ts'

import {KUBE_CORPUS_DIR} from '../helpers/corpus.ts'

export const CORPUS_DIR = KUBE_CORPUS_DIR

export interface KubeFlow {
  name: string
  protocol: 'tcp' | 'udp' | 'sctp'
  sourceIP: string
  destIP: string
  destPort: number
  expected: {output: string; masq: boolean}
  note?: string
}

export interface CorpusFile {
  file: string
  nodeIPs: string[]
  localAddresses: string[]
  clusterCIDR: string | null
  tracer: {variant: string}
  dump: string
  flows: KubeFlow[]
}

/** The iptables files of the corpus (nftables files belong to another capability). */
export function loadCorpus(dir = CORPUS_DIR): CorpusFile[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('iptables-') && f.endsWith('.json'))
    .sort()
    .map((f) => ({file: f, ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<CorpusFile, 'file'>)}))
}

function run(argv: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0], argv.slice(1), {encoding: 'utf8', timeout: 30_000}, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')}: ${(stderr || err.message).trim()}`))
      else resolve(stdout)
    })
    if (input !== undefined) child.stdin!.end(input)
  })
}

/** True when this process can create (and delete) a network namespace. */
export function canCreateNetns(): boolean {
  const probe = `nfstep-kube-probe-${process.pid}`
  try {
    execFileSync('ip', ['netns', 'add', probe], {stdio: 'ignore'})
    execFileSync('ip', ['netns', 'del', probe], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/**
 * TestTracePacket's literal carries `--comment kubernetes service portals` unquoted (the Go fake parser skips the
 * extra words); iptables-restore refuses it. Joins the words up to the next option and quotes them.
 */
export function quoteComments(dump: string): string {
  return dump.split('\n').map((line) => {
    if (!line.startsWith('-A ') || !line.includes('--comment ')) return line
    const words = line.split(' ')
    const out: string[] = []
    for (let i = 0; i < words.length; i++) {
      out.push(words[i])
      if (words[i] !== '--comment' || words[i + 1]?.startsWith('"')) continue
      const text: string[] = []
      while (i + 1 < words.length && !/^(-|!$)/.test(words[i + 1])) text.push(words[++i])
      out.push(text.length > 1 ? `"${text.join(' ')}"` : text[0])
    }
    return out.join(' ')
  }).join('\n')
}

/**
 * kube-proxy's jumps from the built-in chains, in its order: `iptablesJumpChains` then `iptablesKubeletJumpChains`
 * (pkg/proxy/iptables/proxier.go, sanposhiho/kubernetes@059ce4e8a1d958959595b970acaf846259348518, the fork the
 * corpus was read from). syncProxyRules installs each with EnsureChain + EnsureRule(Prepend), so each lands at the
 * top of its chain unless the same jump is already there.
 */
export const JUMP_CHAINS: readonly {table: 'filter' | 'nat'; dst: string; src: string; comment: string; extra: string}[] = [
  {table: 'filter', dst: 'KUBE-EXTERNAL-SERVICES', src: 'INPUT', comment: 'kubernetes externally-visible service portals', extra: '-m conntrack --ctstate NEW'},
  {table: 'filter', dst: 'KUBE-EXTERNAL-SERVICES', src: 'FORWARD', comment: 'kubernetes externally-visible service portals', extra: '-m conntrack --ctstate NEW'},
  {table: 'filter', dst: 'KUBE-NODEPORTS', src: 'INPUT', comment: 'kubernetes health check service ports', extra: ''},
  {table: 'filter', dst: 'KUBE-SERVICES', src: 'FORWARD', comment: 'kubernetes service portals', extra: '-m conntrack --ctstate NEW'},
  {table: 'filter', dst: 'KUBE-SERVICES', src: 'OUTPUT', comment: 'kubernetes service portals', extra: '-m conntrack --ctstate NEW'},
  {table: 'filter', dst: 'KUBE-FORWARD', src: 'FORWARD', comment: 'kubernetes forwarding rules', extra: ''},
  {table: 'filter', dst: 'KUBE-PROXY-FIREWALL', src: 'INPUT', comment: 'kubernetes load balancer firewall', extra: '-m conntrack --ctstate NEW'},
  {table: 'filter', dst: 'KUBE-PROXY-FIREWALL', src: 'OUTPUT', comment: 'kubernetes load balancer firewall', extra: '-m conntrack --ctstate NEW'},
  {table: 'filter', dst: 'KUBE-PROXY-FIREWALL', src: 'FORWARD', comment: 'kubernetes load balancer firewall', extra: '-m conntrack --ctstate NEW'},
  {table: 'nat', dst: 'KUBE-SERVICES', src: 'OUTPUT', comment: 'kubernetes service portals', extra: ''},
  {table: 'nat', dst: 'KUBE-SERVICES', src: 'PREROUTING', comment: 'kubernetes service portals', extra: ''},
  // iptablesKubeletJumpChains
  {table: 'filter', dst: 'KUBE-FIREWALL', src: 'INPUT', comment: '', extra: ''},
  {table: 'filter', dst: 'KUBE-FIREWALL', src: 'OUTPUT', comment: '', extra: ''},
  {table: 'nat', dst: 'KUBE-POSTROUTING', src: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: ''},
]

/**
 * The ruleset a node ends up with, as iptables-save text (restorable, and readable by our parser): the dump, plus
 * per table the chains EnsureChain would create and the jumps EnsureRule(Prepend) would add — each at the top of
 * SRC, so the last one listed ends up first. A jump is "already there" when the dump has a rule in SRC that jumps
 * to DST (only TestTracePacket's literal has any; its own are kept below the added ones, as Prepend would).
 */
export function nodePayload(dump: string): string {
  const sections = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of quoteComments(dump).split('\n')) {
    if (line.startsWith('*')) sections.set(line.slice(1), (current = []))
    else if (line === 'COMMIT') current = undefined
    else if (current && line.trim()) current.push(line)
  }
  for (const t of ['filter', 'nat']) if (!sections.has(t)) sections.set(t, [])
  let out = ''
  for (const [table, lines] of sections) {
    const declared = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]))
    const extra: string[] = []
    for (const j of JUMP_CHAINS.filter((j) => j.table === table)) {
      if (!declared.has(j.dst)) {
        extra.unshift(`:${j.dst} - [0:0]`)
        declared.add(j.dst)
      }
      const present = lines.some((l) => l.startsWith(`-A ${j.src} `) && l.endsWith(`-j ${j.dst}`))
      if (present) continue
      const comment = j.comment ? `-m comment --comment "${j.comment}"` : ''
      extra.push(['-A', j.src, j.extra, comment, '-j', j.dst].filter(Boolean).join(' '))
    }
    const decl = extra.filter((l) => l.startsWith(':'))
    // Prepending one by one leaves them in reverse list order, ahead of whatever the chain already had.
    const jumps = extra.filter((l) => !l.startsWith(':')).reverse()
    out += [`*${table}`, ...lines.filter((l) => l.startsWith(':')), ...decl, ...jumps, ...lines.filter((l) => !l.startsWith(':')), 'COMMIT', ''].join('\n')
  }
  return out
}

/** Interface names inside every node namespace. */
export const DEV = {external: 'eth0', pods: 'cbr0'} as const
export const DEFAULT_GW = '192.168.0.1'

export interface KubeNode {
  ns: string
  snapshot: Snapshot
  /** route_localnet=1 was set (kube-proxy does it when it installs the localnet DROP rule). */
  routeLocalnet: boolean
  destroy(): Promise<void>
}

/**
 * One node: lo; `eth0` (a veth whose peer stays in the namespace, unaddressed: the kernel here has no dummy module) with the file's IPv4 node IPs as /24 and the default route via 192.168.0.1; `cbr0`
 * (veth likewise) holding .1 of the cluster CIDR (10.0.0.0/8 when the file has none), so every pod and endpoint address is
 * on-link there. Forwarding on, rp_filter off, route_localnet as kube-proxy would set it.
 */
export async function buildNode(c: CorpusFile, ns: string): Promise<KubeNode> {
  await run(['ip', 'netns', 'add', ns])
  const destroy = async () => {
    await run(['ip', 'netns', 'del', ns]).catch(() => undefined)
  }
  try {
    const cidr = c.clusterCIDR ?? '10.0.0.0/8'
    const [net, len] = cidr.split('/')
    const podGw = net.replace(/\.0$/, '.1')
    const v4 = c.nodeIPs.filter((a) => !a.includes(':'))
    const v6 = c.nodeIPs.filter((a) => a.includes(':'))
    const batch = [
      'link set lo up',
      ...[DEV.external, DEV.pods].flatMap((d) => [`link add ${d} type veth peer name ${d}-peer`, `link set ${d}-peer up`, `link set ${d} up`]),
      ...v4.map((a) => `addr add ${a}/24 dev ${DEV.external}`),
      ...v6.map((a) => `addr add ${a}/64 dev ${DEV.external} nodad`),
      `addr add ${podGw}/${len} dev ${DEV.pods}`,
      `route add default via ${DEFAULT_GW} dev ${DEV.external}`,
    ]
    await run(['ip', '-n', ns, '-batch', '-'], batch.join('\n') + '\n')
    // kube-proxy writes the "block incoming localnet connections" rule exactly when it sets route_localnet=1
    // (proxier.go NewProxier/syncProxyRules, localhostNodePorts).
    const routeLocalnet = c.dump.includes('block incoming localnet connections')
    const sysctls = ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
      `net.ipv4.conf.${DEV.external}.rp_filter=0`, `net.ipv4.conf.${DEV.pods}.rp_filter=0`,
      `net.ipv4.conf.all.route_localnet=${routeLocalnet ? 1 : 0}`]
    await run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', ...sysctls])
    await run(['ip', 'netns', 'exec', ns, 'iptables-restore'], nodePayload(c.dump))
    const {files, meta} = await collectLive({netns: ns})
    const snapshot = loadSnapshotFromFiles(files, `kube corpus ${c.file} (netns ${ns})`, meta)
    return {ns, snapshot, routeLocalnet, destroy}
  } catch (e) {
    await destroy()
    throw e
  }
}

/** Where a corpus flow's packet comes from on this node. */
export function flowOrigin(c: CorpusFile, f: KubeFlow): {in: string} | {local: true} {
  if (c.nodeIPs.includes(f.sourceIP) || f.sourceIP.startsWith('127.')) return {local: true}
  const cidr = c.clusterCIDR ?? '10.0.0.0/8'
  const [net, len] = cidr.split('/')
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0
  const mask = Number(len) === 0 ? 0 : (~0 << (32 - Number(len))) >>> 0
  return ((toInt(f.sourceIP) & mask) >>> 0) === ((toInt(net) & mask) >>> 0) ? {in: DEV.pods} : {in: DEV.external}
}

/** The chains Kubernetes' tracer enters directly in filter (README: walk order step 3). */
const KUBE_FILTER_CHAINS = new Set(['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL'])
export const MASQ_BIT = 0x4000

/** One outcome seen the way Kubernetes' tracer reports it. */
export interface KubeView {
  /** DNAT target `ip:port`, or the verdict DROP / REJECT / ACCEPT, or '' (kube-proxy's rules left it alone). */
  result: string
  masq: boolean
  /** The full-path disposition, for the documented differences. */
  disposition: Outcome['disposition']
  /** table/chain of the rule that decided a drop/reject/accept verdict. */
  decidedBy?: string
}

export function kubeView(o: Outcome): KubeView {
  const dnat = o.steps.find((s) => s.type === 'nat' && s.kind === 'dnat')
  // The masquerade mark: KUBE-POSTROUTING xors it away right before MASQUERADE, so look at both.
  const masqueraded = o.steps.some((s) => s.type === 'nat' && s.kind === 'masquerade')
  const masq = masqueraded || (o.final.mark & MASQ_BIT) !== 0
  const verdictRule = [...o.steps].reverse().find((s) => s.type === 'rule' && s.matched && (s.verdict === 'DROP' || s.verdict === 'REJECT' || s.verdict === 'ACCEPT'))
  const decidedBy = verdictRule?.type === 'rule' ? `${verdictRule.table}/${verdictRule.chain}` : undefined
  let result = ''
  if (dnat?.type === 'nat') result = dnat.to
  // Kubernetes' tracer records rule verdicts only: a drop by input routing (a martian) is not one.
  else if ((o.disposition === 'drop' || o.disposition === 'reject') && verdictRule?.type === 'rule' && verdictRule.verdict === o.disposition.toUpperCase()) result = o.disposition.toUpperCase()
  else if (verdictRule?.type === 'rule' && verdictRule.verdict === 'ACCEPT' && verdictRule.table === 'filter' && KUBE_FILTER_CHAINS.has(verdictRule.chain)) result = 'ACCEPT'
  return {result, masq, disposition: o.disposition, decidedBy}
}

/** A whole trace as Kubernetes prints it: results in outcome order joined by ", ", masq over all branches. */
export function kubeSummary(r: TraceResult): {output: string; masq: boolean; views: KubeView[]} {
  const views = r.outcomes.map(kubeView)
  return {output: views.map((v) => v.result).filter(Boolean).join(', '), masq: views.some((v) => v.masq), views}
}
