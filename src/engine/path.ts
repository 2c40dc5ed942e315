/**
 * The packet's path through the hooks (netfilter-path.md §1.2): inbound → PREROUTING → input route → INPUT or
 * FORWARD → POSTROUTING; locally generated → output route → OUTPUT (re-route when mangle/nat changed the keys) →
 * POSTROUTING; a local destination then loops back through PREROUTING → INPUT on lo.
 */
import type {HookName} from '../model/ruleset.ts'
import type {Disposition} from './events.ts'
import {CT_STATUS, type CtView, type PacketState, type RouteResult} from './state.ts'
import type {PacketSpec} from '../model/packet.ts'
import {hookEntries, entryName} from './pipeline.ts'
import {walkTable, type TableVerdict} from './walk.ts'
import {applyNatRequest, applyStoredMapping, noteTupleClash} from './nat.ts'
import {untracked, type Run} from './run.ts'
import {invert, packetTuple, tupleKey, tupleText, type CtLookup} from './conntrack.ts'

type HookResult = {verdict: 'ACCEPT'} | {verdict: Exclude<TableVerdict, 'ACCEPT'>}

const DISPOSITION_OF: Record<Exclude<TableVerdict, 'ACCEPT'>, Disposition> = {DROP: 'drop', REJECT: 'reject', QUEUE: 'queue', STOLEN: 'stolen'}

function runHook(run: Run, hook: HookName, route?: RouteResult): HookResult {
  const entries = hookEntries(hook)
  run.emit({type: 'hook', family: run.family, hook, entries: entries.map(entryName)})
  for (const entry of entries) {
    let v: TableVerdict = 'ACCEPT'
    switch (entry.kind) {
      case 'table': {
        const table = run.env.tables.get(entry.table)
        if (table) v = walkTable(run, table, hook)
        break
      }
      case 'conntrack':
        conntrackIn(run, hook)
        break
      case 'nat':
        v = natHook(run, hook, entry.manip, route)
        break
      case 'confirm':
        if (run.pkt.ct?.origin === 'new') {
          run.emit({type: 'conntrack', family: run.family, hook, action: 'confirm', state: run.pkt.ct.state, text: `the new entry ${tupleText(run.pkt.ct.orig)} is confirmed (inserted in the conntrack table)`})
        }
        break
    }
    if (v !== 'ACCEPT') return {verdict: v}
  }
  return {verdict: 'ACCEPT'}
}

function conntrackIn(run: Run, hook: HookName): void {
  const pkt = run.pkt
  if (pkt.ct !== undefined) {
    // Looped-back packets keep their entry (the skb still references it).
    if (pkt.ct) run.emit({type: 'conntrack', family: run.family, hook, action: 'keep', state: pkt.ct.state, text: `the packet already carries conntrack entry ${tupleText(pkt.ct.orig)} (${pkt.ct.state})`})
    return
  }
  if (run.ctTemplate.notrack) {
    run.update({ct: untracked(pkt)})
    run.emit({type: 'conntrack', family: run.family, hook, action: 'untracked', state: 'UNTRACKED', text: 'the raw table set NOTRACK: conntrack skips the packet (state UNTRACKED, no NAT)'})
    return
  }
  const r = run.env.forcedCt ? forcedLookup(pkt, run.env.forcedCt) : (run.env.flow && flowLookup(pkt, run.env.flow)) || run.env.conntrack.lookup(pkt, run.ctTemplate.zone ?? 0)
  const ct = r.ct && run.ctTemplate.helper ? {...r.ct, helper: run.ctTemplate.helper} : r.ct
  run.update({ct})
  run.emit({type: 'conntrack', family: run.family, hook, action: r.action, state: ct?.state ?? 'INVALID', text: r.text})
  if (r.entry && ct && ct.status & (CT_STATUS.DST_NAT | CT_STATUS.SRC_NAT)) {
    run.note(`this connection already exists (${ct.origin}): it keeps the NAT its first packet got (${tupleText(ct.orig)} ⇄ ${tupleText(ct.reply)}), whatever the rules say now`)
  }
}

/** `--ct STATE`: a made-up entry for the packet's own tuple, said to be forced. */
function forcedLookup(pkt: PacketState, state: NonNullable<PacketSpec['ct']>): CtLookup {
  if (state === 'invalid') return {ct: null, action: 'invalid', text: 'state forced to INVALID (--ct invalid): no conntrack entry'}
  const orig = packetTuple(pkt)
  const status = state === 'established' ? CT_STATUS.SEEN_REPLY | CT_STATUS.ASSURED | CT_STATUS.CONFIRMED : state === 'related' ? CT_STATUS.EXPECTED : 0
  // NEW and RELATED are first packets: the nat table is consulted for them (origin 'new').
  const origin = state === 'established' ? 'forced by --ct' : 'new'
  const ct: CtView = {state: state.toUpperCase() as CtView['state'], dir: 'ORIGINAL', status, mark: 0, zone: 0, orig, reply: invert(orig), origin}
  return {ct, action: 'found', text: `state forced to ${ct.state} (--ct ${state})${state === 'established' ? ': an entry without NAT is assumed, so no NAT applies' : ''}`}
}

/** A packet that continues an earlier packet's connection finds that connection (and only it, besides the snapshot). */
function flowLookup(pkt: PacketState, flow: NonNullable<Run['env']['flow']>): CtLookup | undefined {
  const e = flow.ct
  const key = tupleKey(packetTuple(pkt), e.zone)
  const of = `packet ${JSON.stringify(flow.ref.of)}`
  if (flow.ref.kind === 'related') {
    const dir = pkt.dst.text === e.reply.dst.text ? 'REPLY' : 'ORIGINAL'
    return {ct: {...e, state: 'RELATED', dir, origin: of}, action: 'found', text: `an ICMP error quoting the connection of ${of} (${tupleText(e.orig)}): RELATED, ${dir.toLowerCase()} direction; NAT is undone on the quoted packet too`}
  }
  if (key === tupleKey(e.orig, e.zone)) {
    const established = (e.status & CT_STATUS.SEEN_REPLY) !== 0
    return {ct: {...e, state: established ? 'ESTABLISHED' : 'NEW', dir: 'ORIGINAL', origin: of}, action: 'found', text: `the connection of ${of} (${tupleText(e.orig)}), original direction: ${established ? 'ESTABLISHED (a reply was seen)' : 'NEW (no reply seen yet)'}`}
  }
  if (key === tupleKey(e.reply, e.zone)) {
    return {ct: {...e, state: 'ESTABLISHED', dir: 'REPLY', status: e.status | CT_STATUS.SEEN_REPLY, origin: of}, action: 'found', text: `a reply in the connection of ${of} (${tupleText(e.orig)} ⇄ ${tupleText(e.reply)}): ESTABLISHED`}
  }
  return undefined
}

function natHook(run: Run, hook: HookName, manip: 'dst' | 'src', route?: RouteResult): TableVerdict {
  const ct = run.pkt.ct
  if (!ct || ct.state === 'UNTRACKED') {
    run.note(`nat (${hook}): skipped, the packet has ${ct ? 'no conntrack (UNTRACKED)' : 'no valid conntrack entry (INVALID)'} so NAT cannot apply`)
    return 'ACCEPT'
  }
  const done = manip === 'dst' ? CT_STATUS.DST_NAT_DONE : CT_STATUS.SRC_NAT_DONE
  if (ct.origin !== 'new' || ct.status & done) {
    applyStoredMapping(run, hook, manip, ct)
    return 'ACCEPT'
  }
  const table = run.env.tables.get('nat')
  run.natRequests = []
  const v = table ? walkTable(run, table, hook) : 'ACCEPT'
  if (v !== 'ACCEPT') return v
  run.updateCt({status: ct.status | done})
  const req = run.natRequests[0]
  if (!req) {
    run.emit({type: 'nat', family: run.family, hook, kind: 'null', from: '', to: '', text: `no ${manip === 'dst' ? 'DNAT' : 'SNAT'} rule matched: null binding (addresses unchanged; the nat table will not be consulted again for this connection)`})
    if (manip === 'src') noteTupleClash(run, hook)
    return 'ACCEPT'
  }
  const at = lastMatchedRule(run, hook)
  if (applyNatRequest(run, hook, req.effect.nat, at, route) !== 'ok') return 'DROP'
  if (manip === 'src') noteTupleClash(run, hook)
  return 'ACCEPT'
}

function lastMatchedRule(run: Run, hook: HookName): {table: string; chain: string; index: number} {
  for (let i = run.events.length - 1; i >= 0; i--) {
    const e = run.events[i]
    if (e.type === 'rule' && e.matched && e.hook === hook) return {table: e.table, chain: e.chain, index: e.rule.index}
  }
  return {table: 'nat', chain: hook, index: 0}
}

function routeInput(run: Run): RouteResult {
  const p = run.pkt
  const result = run.env.router.lookup({family: p.family, dst: p.dst, src: p.src, iif: p.iif, mark: p.mark, tos: p.tos, proto: p.proto, sport: p.sport, dport: p.dport})
  run.emit({type: 'route', family: p.family, phase: 'input', result, text: result.explanation})
  return result
}

function routeOutput(run: Run, phase: 'output' | 'reroute'): RouteResult {
  const p = run.pkt
  const result = run.env.router.lookup({family: p.family, dst: p.dst, src: p.src, mark: p.mark, tos: p.tos, proto: p.proto, sport: p.sport, dport: p.dport, uid: p.assume.uid})
  run.emit({type: 'route', family: p.family, phase, result, text: result.explanation})
  return result
}

/**
 * Loopback addresses arriving on another device are martians (net/ipv4/route.c ip_route_input_slow, checked on the
 * destination as it stands after PREROUTING's DNAT) unless route_localnet is set on all or the device; IPv6 drops
 * ::1 from a non-loopback device outright (ip6_rcv_core).
 */
function martianReason(run: Run): string | undefined {
  const p = run.pkt
  if (!p.iif || p.iif === 'lo') return undefined
  if (p.family === 6) {
    const lo = (a: string) => a === '::1'
    return lo(p.src.text) || lo(p.dst.text) ? `::1 arriving on ${p.iif} is dropped (ip6_rcv_core: loopback addresses only on lo)` : undefined
  }
  const isLo = (v4: number) => v4 >>> 24 === 127
  const localnet = run.env.sysctl.get('net.ipv4.conf.all.route_localnet') === '1' || run.env.sysctl.get(`net.ipv4.conf.${p.iif}.route_localnet`) === '1'
  if (localnet) return undefined
  if (isLo(p.dst.v4)) return `martian destination ${p.dst.text} on ${p.iif}: a 127.0.0.0/8 destination is only routed from lo unless route_localnet=1 (it is not set); dropped before INPUT/FORWARD`
  if (isLo(p.src.v4)) return `martian source ${p.src.text} on ${p.iif}: a 127.0.0.0/8 source is only accepted on lo unless route_localnet=1 (it is not set); dropped before INPUT/FORWARD`
  return undefined
}

/** rp_filter (fib_validate_source): strict needs the reverse route to leave by the input device, loose any route. */
function rpFilterDrops(run: Run): boolean {
  const p = run.pkt
  if (!p.iif || p.iif === 'lo') return false
  const mode = run.env.router.rpFilter(p.iif, p.family)
  if (p.family !== 4 || mode === 0) return false
  const validMark = run.env.sysctl.get(`net.ipv4.conf.${p.iif}.src_valid_mark`) === '1' || run.env.sysctl.get('net.ipv4.conf.all.src_valid_mark') === '1'
  const back = run.env.router.lookup({family: 4, dst: p.src, src: p.dst, mark: validMark ? p.mark : 0, tos: p.tos})
  const ok = mode === 1 ? (back.type === 'unicast' || back.type === 'local') && back.dev === p.iif : back.type === 'unicast' || back.type === 'local'
  const why = `rp_filter=${mode} (${mode === 1 ? 'strict' : 'loose'}) on ${p.iif}: the route back to ${p.src.text} ${back.type === 'unicast' || back.type === 'local' ? `leaves via ${back.dev}` : `is ${back.type}`}`
  run.note(ok ? `${why}: source accepted` : `${why}: the packet is dropped as a martian/reverse-path failure before INPUT/FORWARD`, ok ? 'info' : 'warning')
  return !ok
}

function finish(run: Run, disposition: Disposition, oif: string | null, text: string): Disposition {
  run.emit({type: 'disposition', disposition, oif, text, final: run.pkt})
  return disposition
}

function verdictEnd(run: Run, hook: HookName, v: Exclude<TableVerdict, 'ACCEPT'>): Disposition {
  const d = DISPOSITION_OF[v]
  const text = {drop: `dropped in ${hook}`, reject: `rejected in ${hook} (an error is sent back)`, queue: `queued to userspace in ${hook}: the verdict of the program that reads the queue is unknown`, stolen: `taken over (stolen) in ${hook}`}[d as 'drop']
  return finish(run, d, null, text)
}

function routeFailure(run: Run, r: RouteResult): Disposition {
  return finish(run, r.type === 'prohibit' || r.type === 'unreachable' ? 'reject' : 'drop', null, `no usable route: ${r.explanation}`)
}

/** Inbound packet (or a looped-back local one): PREROUTING and on. */
export function inbound(run: Run): Disposition {
  let h = runHook(run, 'PREROUTING')
  if (h.verdict !== 'ACCEPT') return verdictEnd(run, 'PREROUTING', h.verdict)
  const martian = martianReason(run)
  if (martian) return finish(run, 'drop', null, martian)
  const route = routeInput(run)
  if (route.type === 'local' || route.type === 'broadcast' || route.type === 'multicast') {
    if (rpFilterDrops(run)) return finish(run, 'drop', null, 'dropped by reverse path filtering')
    h = runHook(run, 'INPUT')
    if (h.verdict !== 'ACCEPT') return verdictEnd(run, 'INPUT', h.verdict)
    return finish(run, 'local', null, `delivered to a local socket on this host (${run.pkt.dst.text})`)
  }
  if (route.type !== 'unicast') {
    if (route.type === 'none') {
      run.note('routing is unknown (no route dump in the snapshot): assumed forwarded', 'warning')
    } else return routeFailure(run, route)
  }
  const fwdKey = run.family === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding'
  const fwd = run.env.sysctl.get(fwdKey)
  if (fwd === '0') return finish(run, 'drop', null, `${fwdKey} = 0: the host does not forward; the packet is dropped`)
  if (fwd === undefined) run.note(`${fwdKey} is not in the snapshot: forwarding assumed enabled`)
  if (rpFilterDrops(run)) return finish(run, 'drop', null, 'dropped by reverse path filtering')
  run.update({oif: route.dev})
  h = runHook(run, 'FORWARD')
  if (h.verdict !== 'ACCEPT') return verdictEnd(run, 'FORWARD', h.verdict)
  h = runHook(run, 'POSTROUTING', route)
  if (h.verdict !== 'ACCEPT') return verdictEnd(run, 'POSTROUTING', h.verdict)
  return finish(run, 'forward', route.dev ?? null, `forwarded out of ${route.dev ?? '(unknown interface)'}${route.gateway ? ` via ${route.gateway.text}` : ''}`)
}

/** Locally generated packet: output route, OUTPUT, POSTROUTING, and back in through lo when the destination is local. */
export function outbound(run: Run): Disposition {
  let route = routeOutput(run, 'output')
  if (route.type !== 'unicast' && route.type !== 'local' && route.type !== 'broadcast' && route.type !== 'multicast' && route.type !== 'none') return routeFailure(run, route)
  run.update({oif: route.type === 'local' ? 'lo' : route.dev})
  const hook: HookName = 'OUTPUT'
  run.emit({type: 'hook', family: run.family, hook, entries: hookEntries(hook).map(entryName)})
  for (const entry of hookEntries(hook)) {
    const before = run.pkt
    let v: TableVerdict = 'ACCEPT'
    if (entry.kind === 'table') {
      const table = run.env.tables.get(entry.table)
      if (table) v = walkTable(run, table, hook)
    } else if (entry.kind === 'conntrack') conntrackIn(run, hook)
    else if (entry.kind === 'nat') v = natHook(run, hook, entry.manip, route)
    if (v !== 'ACCEPT') return verdictEnd(run, hook, v)
    // ip_route_me_harder after mangle OUTPUT (ipt_mangle_out) when saddr/daddr/mark/tos changed, and after
    // nat OUTPUT when the destination changed (nf_nat_ipv4_local_fn).
    const after = run.pkt
    const changed = entry.kind === 'table' && entry.table === 'mangle'
      ? before.src !== after.src || before.dst !== after.dst || before.mark !== after.mark || before.tos !== after.tos
      : entry.kind === 'nat' && (before.dst !== after.dst || before.dport !== after.dport)
    if (changed) {
      route = routeOutput(run, 'reroute')
      if (route.type !== 'unicast' && route.type !== 'local' && route.type !== 'none') return routeFailure(run, route)
    }
  }
  // The OUTPUT hook's state->out was fixed when the hook started: later OUTPUT tables still see the first route's
  // device in -o; POSTROUTING gets the re-routed one (seen by the kernel-differential suite, seed 170).
  run.update({oif: route.type === 'local' ? 'lo' : route.dev})
  const h = runHook(run, 'POSTROUTING', route)
  if (h.verdict !== 'ACCEPT') return verdictEnd(run, 'POSTROUTING', h.verdict)
  if (route.type === 'local') {
    run.note('the destination is local: the packet loops back through lo (PREROUTING, INPUT) keeping its conntrack entry and mark')
    run.update({iif: 'lo', oif: undefined})
    return inbound(run)
  }
  return finish(run, 'output', run.pkt.oif ?? null, `sent out of ${run.pkt.oif ?? '(unknown interface)'}${route.gateway ? ` via ${route.gateway.text}` : ''}`)
}
