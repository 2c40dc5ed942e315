/**
 * The kernel-differential topology: four network namespaces joined by veth pairs.
 *
 *   client (c0) ── (nc0) node (ns0) ── (s0) server
 *                        node (nu0) ── (u0) uplink      ← second route out, for `ip rule fwmark` → table 100
 *
 * The node is the machine under test: ip_forward=1, the generated ruleset is loaded there, and the engine's snapshot
 * is collected there. The other namespaces only exist to have wires: test packets are crafted frames written on the
 * client/server veth ends (test/kernel/inject.py), so they need no addresses of their own beyond the link ones.
 * Every run has a unique prefix (`nfk<pid>`) so two runs can coexist; everything is removed on exit, error and
 * SIGINT/SIGTERM. Nothing is ever changed in the root namespace.
 */
import {execFileSync} from 'node:child_process'

/** Devices as the node sees them; the engine's snapshot names them the same way. */
export const DEV = {toClient: 'nc0', toServer: 'ns0', toUplink: 'nu0', client: 'c0', server: 's0', uplink: 'u0'} as const

/**
 * Addresses. Packets use the pools: client-side sources come from CLIENT_POOL (routed to the client), anything else
 * not local goes to the server (the node's default route), or to the uplink when policy routing says so.
 */
export const NET = {
  4: {
    client: {node: '10.99.1.1', peer: '10.99.1.2', len: 24},
    server: {node: '10.99.2.1', peer: '10.99.2.2', len: 24},
    uplink: {node: '10.99.3.1', peer: '10.99.3.2', len: 24},
    clientPool: '10.98.0.0/16',
    serverPool: '10.97.0.0/16',
    /** An extra local address on the node's lo, so `addrtype LOCAL` and INPUT see a non-link address too. */
    nodeExtra: '10.96.0.1',
  },
  6: {
    client: {node: 'fd99:1::1', peer: 'fd99:1::2', len: 64},
    server: {node: 'fd99:2::1', peer: 'fd99:2::2', len: 64},
    uplink: {node: 'fd99:3::1', peer: 'fd99:3::2', len: 64},
    clientPool: 'fd98::/48',
    serverPool: 'fd97::/48',
    nodeExtra: 'fd96::1',
  },
} as const

/** The routing table `ip rule fwmark` sends marked packets to (default route via the uplink). */
export const POLICY_TABLE = 100

export const REQUIRED_TOOLS = ['ip', 'nft', 'iptables-restore', 'ip6tables-restore', 'ipset', 'conntrack', 'python3'] as const

export class CmdError extends Error {}

/** Runs a command, returns stdout; throws CmdError with the command and its stderr. */
export function sh(argv: string[], input?: string): string {
  try {
    return execFileSync(argv[0], argv.slice(1), {input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000})
  } catch (e) {
    const err = e as {stderr?: string; message: string}
    throw new CmdError(`${argv.join(' ')}: ${(err.stderr || err.message).trim()}${input ? `\n--- input ---\n${input}` : ''}`)
  }
}

export function inNs(ns: string, argv: string[], input?: string): string {
  return sh(['ip', 'netns', 'exec', ns, ...argv], input)
}

/** Tools missing from PATH (empty when all are there). */
export function missingTools(): string[] {
  return REQUIRED_TOOLS.filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], {stdio: 'ignore'})
      return false
    } catch {
      return true
    }
  })
}

/**
 * Why the kernel tests cannot run here, or undefined. Throws when they must run (CI=true as root) but cannot.
 * Callers print it as `### KERNEL TESTS SKIPPED: <reason> ###` (grep for KERNEL TESTS SKIPPED).
 */
export function kernelSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root (network namespaces need root)'
  const missing = missingTools()
  if (!missing.length) return undefined
  const why = `missing tools: ${missing.join(', ')} (Debian: apt-get install iproute2 nftables iptables ipset conntrack python3)`
  if (process.env.CI === 'true') throw new Error(`kernel tests cannot run in CI as root: ${why}`)
  return why
}

export interface Topology {
  prefix: string
  ns: {client: string; node: string; server: string; uplink: string}
  /** MAC addresses: the node's end of each link and the peer's end (frames go peer → node). */
  mac: {toClient: string; toServer: string; client: string; server: string}
  destroy(): void
}

const live = new Set<string>()
let hooked = false

function removeAll(): void {
  for (const ns of live) {
    try {
      execFileSync('ip', ['netns', 'del', ns], {stdio: 'ignore'})
    } catch {
      // already gone
    }
    live.delete(ns)
  }
}

/** Namespaces are removed however the process ends; signals re-raise the default exit code after cleanup. */
function hookCleanup(): void {
  if (hooked) return
  hooked = true
  process.on('exit', removeAll)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      removeAll()
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1))
    })
  }
}

function mac(ns: string, dev: string): string {
  const j = JSON.parse(inNs(ns, ['ip', '-j', 'link', 'show', 'dev', dev])) as {address: string}[]
  return j[0].address
}

export function createTopology(prefix = `nfk${process.pid}`): Topology {
  hookCleanup()
  const ns = {client: `${prefix}-c`, node: `${prefix}-n`, server: `${prefix}-s`, uplink: `${prefix}-u`}
  const topo: Topology = {
    prefix,
    ns,
    mac: {toClient: '', toServer: '', client: '', server: ''},
    destroy: () => {
      for (const n of Object.values(ns)) {
        if (!live.has(n)) continue
        try {
          sh(['ip', 'netns', 'del', n])
        } finally {
          live.delete(n)
        }
      }
    },
  }
  try {
    for (const n of Object.values(ns)) {
      sh(['ip', 'netns', 'add', n])
      live.add(n)
      inNs(n, ['ip', 'link', 'set', 'lo', 'up'])
    }
    const links: [string, string, string, keyof typeof NET[4]][] = [
      [ns.client, DEV.client, DEV.toClient, 'client'],
      [ns.server, DEV.server, DEV.toServer, 'server'],
      [ns.uplink, DEV.uplink, DEV.toUplink, 'uplink'],
    ]
    for (const [peerNs, peerDev, nodeDev, side] of links) {
      // Created directly inside the namespaces: the root namespace never holds these devices.
      sh(['ip', 'link', 'add', peerDev, 'netns', peerNs, 'type', 'veth', 'peer', 'name', nodeDev, 'netns', ns.node])
      inNs(peerNs, ['ip', 'link', 'set', peerDev, 'up'])
      inNs(ns.node, ['ip', 'link', 'set', nodeDev, 'up'])
      for (const fam of [4, 6] as const) {
        const l = NET[fam][side] as {node: string; peer: string; len: number}
        const nodad = fam === 6 ? ['nodad'] : []
        inNs(ns.node, ['ip', `-${fam}`, 'addr', 'add', `${l.node}/${l.len}`, 'dev', nodeDev, ...nodad])
        inNs(peerNs, ['ip', `-${fam}`, 'addr', 'add', `${l.peer}/${l.len}`, 'dev', peerDev, ...nodad])
        inNs(peerNs, ['ip', `-${fam}`, 'route', 'add', 'default', 'via', l.node])
      }
    }
    for (const fam of [4, 6] as const) {
      const n = NET[fam]
      inNs(ns.node, ['ip', `-${fam}`, 'addr', 'add', `${n.nodeExtra}/${fam === 4 ? 32 : 128}`, 'dev', 'lo'])
      inNs(ns.node, ['ip', `-${fam}`, 'route', 'add', n.clientPool, 'via', n.client.peer, 'dev', DEV.toClient])
      inNs(ns.node, ['ip', `-${fam}`, 'route', 'add', 'default', 'via', n.server.peer, 'dev', DEV.toServer])
      inNs(ns.node, ['ip', `-${fam}`, 'route', 'add', 'default', 'via', n.uplink.peer, 'dev', DEV.toUplink, 'table', String(POLICY_TABLE)])
    }
    // Forwarding on; rp_filter off explicitly (a fresh namespace has 0, but say it rather than rely on it).
    inNs(ns.node, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'])
    for (const d of [DEV.toClient, DEV.toServer, DEV.toUplink]) inNs(ns.node, ['sysctl', '-qw', `net.ipv4.conf.${d}.rp_filter=0`])
    topo.mac = {
      toClient: mac(ns.node, DEV.toClient),
      toServer: mac(ns.node, DEV.toServer),
      client: mac(ns.client, DEV.client),
      server: mac(ns.server, DEV.server),
    }
    // Static neighbours: forwarded packets then leave at once, without waiting for ARP/ND (and without ND traffic).
    for (const fam of [4, 6] as const) {
      inNs(ns.node, ['ip', `-${fam}`, 'neigh', 'replace', NET[fam].client.peer, 'lladdr', topo.mac.client, 'dev', DEV.toClient, 'nud', 'permanent'])
      inNs(ns.node, ['ip', `-${fam}`, 'neigh', 'replace', NET[fam].server.peer, 'lladdr', topo.mac.server, 'dev', DEV.toServer, 'nud', 'permanent'])
      inNs(ns.node, ['ip', `-${fam}`, 'neigh', 'replace', NET[fam].uplink.peer, 'lladdr', mac(ns.uplink, DEV.uplink), 'dev', DEV.toUplink, 'nud', 'permanent'])
    }
  } catch (e) {
    topo.destroy()
    throw e
  }
  return topo
}
