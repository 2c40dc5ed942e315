/**
 * The kernel as the judge: loads a generated ruleset in the node namespace, sends one packet at a time and reads
 * what netfilter did from `nft monitor trace`.
 *
 * Tracing leaves the user's tables alone: our own `inet nfk_trace` table switches tracing on at prerouting/output
 * priority -500 and has empty base chains at priority 10000 on input/forward/postrouting, whose policy lines say
 * "the packet got to the end of this path" and carry its final mark and output device. Events name rules by handle;
 * `nft -j -a list ruleset` maps handles to 1-based positions (its order is iptables-save's order).
 * `nft monitor trace` flushes each line into a pipe (checked on nft 1.0.6), so no pseudo-terminal is needed.
 */
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {parseAddr} from '../../src/net/addr.ts'
import {DEV, inNs, type Topology} from './netns.ts'
import type {GenCase, GenPacket} from './generator.ts'
import {ethFrame, hex, ipPacket} from './wire.ts'
import type {KernelDisposition, KernelVerdictTrace, VerdictEvent} from './verdict-trace.ts'

const TRACE_TABLE = 'nfk_trace'
const TRACE_RULESET = `table inet ${TRACE_TABLE} {
  chain pre { type filter hook prerouting priority -500; meta nftrace set 1; }
  chain out { type filter hook output priority -500; meta nftrace set 1; }
  chain in_end { type filter hook input priority 10000; }
  chain fwd_end { type filter hook forward priority 10000; }
  chain post_end { type filter hook postrouting priority 10000; }
}
`
/** How long to wait for a packet's trace to reach a final event before calling it vanished (dropped unseen). */
const SETTLE_MS = Number(process.env.NFSTEP_KERNEL_SETTLE_MS ?? 400)

/** One parsed `nft monitor trace` line. */
export interface TraceLine {
  id: string
  family: string
  table: string
  chain: string
  kind: string
  rest: string
  raw: string
}

export function parseTraceLine(raw: string): TraceLine | undefined {
  const m = LINE.exec(raw)
  return m ? {id: m[1], family: m[2], table: m[3], chain: m[4], kind: m[5].replace(':', ''), rest: m[6], raw} : undefined
}

const LINE = /^trace id (\S+) (ip6?|inet) (\S+) (\S+) (packet:|rule|policy|verdict|return)\s?(.*)$/

/** A line-oriented child process answering one line per request (the packet injector). */
class LineProc {
  private readonly waiters: ((line: string) => void)[] = []
  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({input: proc.stdout}).on('line', (l) => this.waiters.shift()?.(l))
  }
  request(line: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiters.push(resolve)
      this.proc.stdin.write(`${line}\n`)
    })
  }
  close(): void {
    this.proc.stdin.end()
    this.proc.kill()
  }
}

export interface KernelResult extends KernelVerdictTrace {
  /** The raw trace lines of this packet (for failure messages). */
  raw: string[]
  /** No final event arrived: the packet vanished without a netfilter verdict (routing, martian, …). */
  vanished: boolean
  /** L3 length of the packet as sent (the engine's PacketSpec.length). */
  length: number
}

export class KernelOracle {
  private readonly byTrace = new Map<string, TraceLine[]>()
  private readonly listeners = new Set<() => void>()
  /** `family table chain handle` → 1-based position. */
  private positions = new Map<string, number>()
  private tag = 0
  private current?: GenCase
  /** Policy routing rules in place, removed by the next load (only those that were really added). */
  private readonly addedRules: {family: 4 | 6; pref: string}[] = []

  private monitor?: ChildProcessWithoutNullStreams

  private constructor(
    readonly topo: Topology,
    private readonly injectors: Record<'client' | 'server' | 'node', LineProc>,
  ) {}

  static start(topo: Topology): KernelOracle {
    const script = fileURLToPath(new URL('./inject.py', import.meta.url))
    const injector = (ns: string) => new LineProc(spawn('ip', ['netns', 'exec', ns, 'python3', '-u', script]))
    return new KernelOracle(topo, {client: injector(topo.ns.client), server: injector(topo.ns.server), node: injector(topo.ns.node)})
  }

  /**
   * (Re)starts `nft monitor trace`. It must start AFTER the ruleset is loaded: nft prints a rule event only for rules
   * in the cache it filled at start (netlink.c trace_print_rule returns silently otherwise), so rules loaded later
   * would be missing from the trace while their policies still show.
   */
  private async startMonitor(): Promise<void> {
    this.monitor?.kill()
    this.byTrace.clear()
    const monitor = spawn('ip', ['netns', 'exec', this.topo.ns.node, 'nft', '-a', 'monitor', 'trace'])
    this.monitor = monitor
    createInterface({input: monitor.stdout}).on('line', (l) => {
      if (this.monitor !== monitor) return
      const t = parseTraceLine(l)
      if (!t) return
      const list = this.byTrace.get(t.id)
      if (list) list.push(t)
      else this.byTrace.set(t.id, [t])
      for (const f of this.listeners) f()
    })
    // The monitor subscribes asynchronously: send probes until one shows up, so no real packet is missed. Only our
    // own -500 chain has to see it (the ruleset may drop it right after).
    const probe: GenPacket = {id: 'probe', from: 'client', family: 4, proto: 17, src: '10.98.0.2', dst: '10.97.0.2', sport: 9, dport: 9, mark: 0, tag: 0}
    for (let i = 0; i < 100; i++) {
      const r = await this.send(probe, 50)
      if (r.raw.length) return
    }
    throw new Error('nft monitor trace shows nothing: is nftrace supported by this kernel?')
  }

  /** Replaces everything in the node namespace with the case's ruleset, sets and policy routing rules. */
  async load(c: GenCase): Promise<void> {
    const ns = this.topo.ns.node
    this.current = c
    for (const r of this.addedRules.splice(0)) inNs(ns, ['ip', `-${r.family}`, 'rule', 'del', 'pref', r.pref])
    inNs(ns, ['nft', 'flush', 'ruleset'])
    inNs(ns, ['ipset', 'destroy'])
    if (c.ipsets) inNs(ns, ['ipset', 'restore'], c.ipsets)
    inNs(ns, [c.family === 4 ? 'iptables-restore' : 'ip6tables-restore'], c.iptables)
    inNs(ns, ['nft', '-f', '-'], TRACE_RULESET)
    for (const r of c.ipRules) {
      inNs(ns, ['ip', `-${c.family}`, 'rule', 'add', ...r])
      this.addedRules.push({family: c.family, pref: r[r.indexOf('pref') + 1]})
    }
    this.positions = new Map()
    const j = JSON.parse(inNs(ns, ['nft', '-j', '-a', 'list', 'ruleset'])) as {nftables: {rule?: {family: string; table: string; chain: string; handle: number}}[]}
    const count = new Map<string, number>()
    for (const o of j.nftables) {
      if (!o.rule) continue
      const chainKey = `${o.rule.family} ${o.rule.table} ${o.rule.chain}`
      const n = (count.get(chainKey) ?? 0) + 1
      count.set(chainKey, n)
      this.positions.set(`${chainKey} ${o.rule.handle}`, n)
    }
    await this.startMonitor()
    // The monitor's probe left a conntrack entry (and maybe set elements): the snapshot taken next must not see them.
    this.reset()
  }

  /** Fresh conntrack, and sets as created when rules change them: every packet starts from the loaded state. */
  private reset(): void {
    const ns = this.topo.ns.node
    inNs(ns, ['conntrack', '-F'])
    if (this.current?.changesSets) inNs(ns, ['ipset', 'restore'], this.current.ipsetReset)
  }

  /** Sends one packet with fresh conntrack (and fresh sets when rules change them) and returns the kernel's trace. */
  async send(p: GenPacket, settleMs = SETTLE_MS): Promise<KernelResult> {
    this.reset()
    this.tag = (this.tag % (p.family === 4 ? 0xfffe : 0xffffe)) + 1
    const tagged = {...p, tag: this.tag}
    const ip = ipPacket({...tagged, ttl: 64})
    let answer: string
    if (p.from === 'local') answer = await this.injectors.node.request(`l3 ${p.family} ${p.mark} ${p.dst} ${hex(ip)}`)
    else {
      const [dev, dst, src] = p.from === 'client' ? [DEV.client, this.topo.mac.toClient, this.topo.mac.client] : [DEV.server, this.topo.mac.toServer, this.topo.mac.server]
      answer = await this.injectors[p.from].request(`l2 ${dev} ${hex(ethFrame(dst, src, p.family, ip))}`)
    }
    if (!answer.startsWith('ok')) throw new Error(`injecting ${p.id}: ${answer}`)
    const lines = await this.waitFor(tagged, settleMs)
    return {...kernelTrace(p.id, p.from === 'local', lines, this.positions), length: ip.length}
  }

  /** Waits until the packet's trace reaches a final event (a drop, or the policy of an end probe) or time runs out. */
  private waitFor(p: GenPacket, settleMs: number): Promise<TraceLine[]> {
    return new Promise((resolve) => {
      let id: string | undefined
      const check = (): boolean => {
        id ??= this.findTrace(p)
        if (!id) return false
        const lines = this.byTrace.get(id)!
        return lines.some(isFinal)
      }
      const done = () => {
        this.listeners.delete(listener)
        clearTimeout(timer)
        const lines = id ? this.byTrace.get(id)! : []
        if (id) this.byTrace.delete(id)
        // Keep memory bounded: other traces (node replies, REJECT answers) are never looked at again.
        if (this.byTrace.size > 1000) this.byTrace.clear()
        resolve(lines)
      }
      const listener = () => {
        if (check()) done()
      }
      const timer = setTimeout(done, settleMs)
      this.listeners.add(listener)
      listener()
    })
  }

  /** The trace whose first packet dump (in our -500 chains) has this packet's tag and addresses. */
  private findTrace(p: GenPacket): string | undefined {
    const src = parseAddr(p.src).text
    const tagRe = p.family === 4 ? new RegExp(`\\bip id ${p.tag}\\b`) : new RegExp(`\\bip6 flowlabel ${p.tag}\\b`)
    const saddr = p.family === 4 ? /\bip saddr (\S+)/ : /\bip6 saddr (\S+)/
    for (const [id, lines] of this.byTrace) {
      const first = lines[0]
      if (first.table !== TRACE_TABLE || first.kind !== 'packet' || !tagRe.test(first.rest)) continue
      const s = saddr.exec(first.rest)?.[1]
      if (s && parseAddr(s).text === src) return id
    }
    return undefined
  }

  close(): void {
    this.monitor?.kill()
    for (const i of Object.values(this.injectors)) i.close()
  }
}

function markOf(rest: string): number {
  const m = /\bmeta mark (0x[0-9a-f]+)/.exec(rest)
  return m ? parseInt(m[1], 16) >>> 0 : 0
}

/** A drop by a rule or policy of a user table, or the policy of the end probe on the packet's way out/in. */
function isFinal(l: TraceLine): boolean {
  if (l.table === TRACE_TABLE) return l.kind === 'policy' && (l.chain === 'post_end' || l.chain === 'in_end')
  if (l.kind === 'policy') return l.rest.startsWith('drop')
  return l.kind === 'rule' && /\(verdict drop\)\s*$/.test(l.rest)
}



/**
 * One packet's trace lines reduced to the common shape. `positions` maps `family table chain handle` to the rule's
 * 1-based position; `local` says the packet was generated on the node (its end is `output`, not `forward`).
 */
export function kernelTrace(packetId: string, local: boolean, lines: readonly TraceLine[], positions: ReadonlyMap<string, number>): Omit<KernelResult, 'length'> {
  const events: VerdictEvent[] = []
  let disposition: KernelDisposition | undefined
  let oif: string | null = null
  let finalMark = 0
  for (const l of lines) {
    if (l.table === TRACE_TABLE) {
      const end = l.chain === 'post_end' || l.chain === 'in_end'
      if (end && l.kind === 'packet') oif = /\boif "([^"]+)"/.exec(l.rest)?.[1] ?? null
      if (end && l.kind === 'policy') {
        finalMark = markOf(l.rest)
        disposition = l.chain === 'in_end' ? 'local' : local ? 'output' : 'forward'
      }
      continue
    }
    if (l.kind === 'packet') continue
    if (l.kind === 'policy') {
      const verdict = l.rest.split(/\s+/)[0].toUpperCase()
      events.push({table: l.table, chain: l.chain, kind: 'policy', verdict})
      if (verdict === 'DROP') disposition = 'drop'
      continue
    }
    if (l.kind === 'rule') {
      const handle = /# handle (\d+)/.exec(l.rest)?.[1]
      const v = /\(verdict ([^)]+)\)\s*$/.exec(l.rest)?.[1] ?? '?'
      const index = positions.get(`${l.family} ${l.table} ${l.chain} ${handle}`)
      // REJECT is a drop to netfilter (the reply is a separate packet); the rule text still says `reject`.
      const rejects = v === 'drop' && /\breject\b/.test(l.rest)
      const [word, arg] = v.split(' ')
      const verdict = rejects ? 'REJECT' : arg ? `${word.toUpperCase()} ${arg}` : word.toUpperCase()
      events.push({table: l.table, chain: l.chain, index, kind: 'rule', verdict})
      if (verdict === 'DROP') disposition = 'drop'
      if (verdict === 'REJECT') disposition = 'reject'
      continue
    }
    // Not seen on 6.18 (an implicit return prints nothing), kept so that a kernel that does print it shows up.
    events.push({table: l.table, chain: l.chain, kind: 'return', verdict: l.rest.trim().toUpperCase() || 'RETURN'})
  }
  const left = disposition === 'forward' || disposition === 'output'
  return {
    packetId, events, disposition: disposition ?? 'drop', oif: left ? oif : null, finalMark,
    raw: lines.map((l) => l.raw), vanished: disposition === undefined,
  }
}
