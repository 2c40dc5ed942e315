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
/**
 * The end probes also hold one rule per conntrack fact: only the rules that match are traced (an unmatched rule is
 * silent), so the trace says the packet's ct state, direction and NAT status bits where it leaves or is delivered.
 */
const CT_PROBES = ['ct state new', 'ct state established', 'ct state related', 'ct state invalid', 'ct state untracked', 'ct direction reply', 'ct status dnat', 'ct status snat']
const TRACE_RULESET = `table inet ${TRACE_TABLE} {
  chain pre { type filter hook prerouting priority -500; meta nftrace set 1; }
  chain out { type filter hook output priority -500; meta nftrace set 1; }
  chain in_end { type filter hook input priority 10000; ${CT_PROBES.join('; ')}; }
  chain fwd_end { type filter hook forward priority 10000; }
  chain post_end { type filter hook postrouting priority 10000; ${CT_PROBES.join('; ')}; }
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

/** Addresses and ports of a packet (text as parseAddr prints it); ports only for TCP/UDP. */
export interface Endpoints {
  src: string
  dst: string
  sport?: number
  dport?: number
}

/** What the end probe's conntrack rules said about the packet as it left or was delivered. */
export interface CtProbe {
  state: 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED' | '?'
  reply: boolean
  dnat: boolean
  snat: boolean
}

/** A conntrack entry's tuples, from a `conntrack -E` NEW event (ICMP: no ports). */
export interface CtEntry {
  proto: string
  orig: Endpoints
  reply: Endpoints
  raw: string
}

export interface SendOptions {
  /** How long to wait for the trace to reach a final event. */
  settleMs?: number
  /** Keep conntrack (and sets) as the previous packets left them: a later packet of the same flow. */
  keepConntrack?: boolean
  /** Wait for the conntrack NEW event of this packet's connection (needs start(…, {conntrackEvents: true})). */
  wantEntry?: boolean
}

export interface KernelResult extends KernelVerdictTrace {
  /** The raw trace lines of this packet (for failure messages). */
  raw: string[]
  /** No final event arrived: the packet vanished without a netfilter verdict (routing, martian, …). */
  vanished: boolean
  /** L3 length of the packet as sent (the engine's PacketSpec.length). */
  length: number
  /** The packet as the end probe saw it (after all NAT), when it got there. */
  final?: Endpoints
  ct?: CtProbe
  /** The connection this packet created, when asked for and it was confirmed. */
  entry?: CtEntry
}

/** How long to wait for a confirmed connection's NEW event after the trace ended. */
const EVENT_MS = 500

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
  /** `conntrack -E -e NEW` of the node namespace, and the events since the last reset. */
  private events?: ChildProcessWithoutNullStreams
  private readonly ctEvents: CtEntry[] = []

  private constructor(
    readonly topo: Topology,
    private readonly injectors: Record<'client' | 'server' | 'node', LineProc>,
  ) {}

  /**
   * `conntrackEvents`: also read the node's conntrack NEW events (the NAT tuples of connections). Events, not
   * `conntrack -L`: a RST or ICMP error from the node deletes an unreplied entry before a listing could see it.
   * `conntrack -E` flushes each event into a pipe (checked on conntrack-tools 1.4.7).
   */
  static start(topo: Topology, opts: {conntrackEvents?: boolean} = {}): KernelOracle {
    const script = fileURLToPath(new URL('./inject.py', import.meta.url))
    const injector = (ns: string) => new LineProc(spawn('ip', ['netns', 'exec', ns, 'python3', '-u', script]))
    const o = new KernelOracle(topo, {client: injector(topo.ns.client), server: injector(topo.ns.server), node: injector(topo.ns.node)})
    if (opts.conntrackEvents) {
      const ev = spawn('ip', ['netns', 'exec', topo.ns.node, 'conntrack', '-E', '-e', 'NEW'])
      o.events = ev
      createInterface({input: ev.stdout}).on('line', (l) => {
        const e = parseCtEvent(l)
        if (!e) return
        o.ctEvents.push(e)
        for (const f of o.listeners) f()
      })
    }
    return o
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
      const r = await this.send(probe, {settleMs: 50})
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
    this.ctEvents.length = 0
    if (this.current?.changesSets) inNs(ns, ['ipset', 'restore'], this.current.ipsetReset)
  }

  /**
   * Sends one packet with fresh conntrack (and fresh sets when rules change them), unless it continues a flow, and
   * returns the kernel's trace.
   */
  async send(p: GenPacket, opts: SendOptions = {}): Promise<KernelResult> {
    const settleMs = opts.settleMs ?? SETTLE_MS
    if (!opts.keepConntrack) this.reset()
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
    const k: KernelResult = {...kernelTrace(p.id, p.from === 'local', lines, this.positions), length: ip.length}
    if (opts.wantEntry && !k.vanished && k.disposition !== 'drop' && k.disposition !== 'reject') k.entry = await this.waitForEntry(tagged)
    return k
  }

  /** The NEW event whose original tuple is this packet's (ICMP: addresses only), or undefined after EVENT_MS. */
  private waitForEntry(p: GenPacket): Promise<CtEntry | undefined> {
    if (!this.events) throw new Error('conntrack events were not started (KernelOracle.start(topo, {conntrackEvents: true}))')
    const want = {src: parseAddr(p.src).text, dst: parseAddr(p.dst).text, sport: p.sport, dport: p.dport}
    const find = () => this.ctEvents.find((e) => e.orig.src === want.src && e.orig.dst === want.dst && e.orig.sport === want.sport && e.orig.dport === want.dport)
    return new Promise((resolve) => {
      const done = (e: CtEntry | undefined) => {
        this.listeners.delete(listener)
        clearTimeout(timer)
        resolve(e)
      }
      const listener = () => {
        const e = find()
        if (e) done(e)
      }
      const timer = setTimeout(() => done(undefined), EVENT_MS)
      this.listeners.add(listener)
      listener()
    })
  }

  /**
   * Waits until the packet's trace reaches a final event (a drop, or the policy of an end probe) or time runs out.
   * A packet that leaves by lo comes back in under another trace id: that trace (first dump in our prerouting chain,
   * iif lo, same tag and source) is appended.
   */
  private waitFor(p: GenPacket, settleMs: number): Promise<TraceLine[]> {
    return new Promise((resolve) => {
      let id: string | undefined
      let loopId: string | undefined
      const lines = () => (id ? [...this.byTrace.get(id)!, ...(loopId ? this.byTrace.get(loopId)! : [])] : [])
      const check = (): boolean => {
        id ??= this.findTrace(p)
        if (!id) return false
        const own = this.byTrace.get(id)!
        const out = own.filter((l) => l.table === TRACE_TABLE && l.chain === 'post_end' && l.kind === 'packet').pop()
        if (out && /\boif "lo"/.test(out.rest) && !loopId) {
          const src = /\bip6? saddr (\S+)/.exec(out.rest)?.[1]
          loopId = src ? this.findTrace({...p, src}, 'lo', id) : undefined
        }
        const all = lines()
        return all.some((l, i) => isFinal(l, i, all))
      }
      const done = () => {
        this.listeners.delete(listener)
        clearTimeout(timer)
        const all = lines()
        for (const x of [id, loopId]) if (x) this.byTrace.delete(x)
        // Keep memory bounded: other traces (node replies, REJECT answers) are never looked at again.
        if (this.byTrace.size > 1000) this.byTrace.clear()
        resolve(all)
      }
      const listener = () => {
        if (check()) done()
      }
      const timer = setTimeout(done, settleMs)
      this.listeners.add(listener)
      listener()
    })
  }

  /** The trace whose first packet dump (in our -500 chains) has this packet's tag and addresses (and input device). */
  private findTrace(p: GenPacket, iif?: string, not?: string): string | undefined {
    const src = parseAddr(p.src).text
    const tagRe = p.family === 4 ? new RegExp(`\\bip id ${p.tag}\\b`) : new RegExp(`\\bip6 flowlabel ${p.tag}\\b`)
    const saddr = p.family === 4 ? /\bip saddr (\S+)/ : /\bip6 saddr (\S+)/
    for (const [id, lines] of this.byTrace) {
      const first = lines[0]
      if (id === not || first.table !== TRACE_TABLE || first.kind !== 'packet' || !tagRe.test(first.rest)) continue
      if (iif && !first.rest.startsWith(`iif "${iif}"`)) continue
      const s = saddr.exec(first.rest)?.[1]
      if (s && parseAddr(s).text === src) return id
    }
    return undefined
  }

  close(): void {
    this.monitor?.kill()
    this.events?.kill()
    for (const i of Object.values(this.injectors)) i.close()
  }
}

/** `[NEW] tcp 6 120 SYN_SENT src=… dst=… sport=… dport=… [UNREPLIED] src=… …`: first set original, second reply. */
export function parseCtEvent(raw: string): CtEntry | undefined {
  const m = /^\s*\[NEW\]\s+(?:ipv[46]\s+\d+\s+)?(\S+)/.exec(raw)
  if (!m) return undefined
  const tuples: Endpoints[] = []
  for (const [, k, v] of raw.matchAll(/\b(src|dst|sport|dport)=(\S+)/g)) {
    if (k === 'src') tuples.push({src: parseAddr(v).text, dst: ''})
    const t = tuples[tuples.length - 1]
    if (!t) return undefined
    if (k === 'dst') t.dst = parseAddr(v).text
    if (k === 'sport') t.sport = Number(v)
    if (k === 'dport') t.dport = Number(v)
  }
  return tuples.length === 2 ? {proto: m[1], orig: tuples[0], reply: tuples[1], raw: raw.trim()} : undefined
}

/** Addresses and TCP/UDP ports from a trace `packet:` line. */
export function packetEndpoints(rest: string): Endpoints | undefined {
  const src = /\bip6? saddr (\S+)/.exec(rest)?.[1]
  const dst = /\bip6? daddr (\S+)/.exec(rest)?.[1]
  if (!src || !dst) return undefined
  const port = (w: string) => {
    const v = new RegExp(`\\b(?:tcp|udp) ${w} (\\d+)`).exec(rest)?.[1]
    return v === undefined ? undefined : Number(v)
  }
  return {src: parseAddr(src).text, dst: parseAddr(dst).text, sport: port('sport'), dport: port('dport')}
}

function markOf(rest: string): number {
  const m = /\bmeta mark (0x[0-9a-f]+)/.exec(rest)
  return m ? parseInt(m[1], 16) >>> 0 : 0
}

/**
 * A drop by a rule or policy of a user table, or the policy of the end probe on the packet's way out/in. A local
 * packet to a local address leaves by lo and comes back in (PREROUTING, INPUT): its post_end is not the end then.
 */
function isFinal(l: TraceLine, i: number, lines: readonly TraceLine[]): boolean {
  if (l.table === TRACE_TABLE && l.kind === 'policy' && l.chain === 'post_end') {
    const dump = lines.slice(0, i).reverse().find((x) => x.table === TRACE_TABLE && x.chain === 'post_end' && x.kind === 'packet')
    return !dump || !/\boif "lo"/.test(dump.rest)
  }
  if (l.table === TRACE_TABLE) return l.kind === 'policy' && l.chain === 'in_end'
  if (l.kind === 'policy') return l.rest.startsWith('drop')
  return l.kind === 'rule' && /\(verdict drop\)\s*$/.test(l.rest)
}



/**
 * One packet's trace lines reduced to the common shape. `positions` maps `family table chain handle` to the rule's
 * 1-based position; `local` says the packet was generated on the node (its end is `output`, not `forward`).
 */
export function kernelTrace(packetId: string, local: boolean, lines: readonly TraceLine[], positions: ReadonlyMap<string, number>): Omit<KernelResult, 'length' | 'entry'> {
  const events: VerdictEvent[] = []
  let disposition: KernelDisposition | undefined
  let oif: string | null = null
  let finalMark = 0
  let final: Endpoints | undefined
  let ct: CtProbe | undefined
  for (const l of lines) {
    if (l.table === TRACE_TABLE) {
      const end = l.chain === 'post_end' || l.chain === 'in_end'
      if (end && l.kind === 'packet') {
        oif = /\boif "([^"]+)"/.exec(l.rest)?.[1] ?? null
        final = packetEndpoints(l.rest)
        ct = {state: '?', reply: false, dnat: false, snat: false}
      }
      if (end && l.kind === 'rule' && ct) {
        const st = /^ct state (\w+)/.exec(l.rest)?.[1]
        if (st) ct.state = st.toUpperCase() as CtProbe['state']
        if (/^ct direction reply/.test(l.rest)) ct.reply = true
        if (/^ct status dnat/.test(l.rest)) ct.dnat = true
        if (/^ct status snat/.test(l.rest)) ct.snat = true
      }
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
    ...(final && disposition !== undefined ? {final} : {}), ...(ct && disposition !== undefined ? {ct} : {}),
  }
}
