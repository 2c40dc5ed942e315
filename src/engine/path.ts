/**
 * The packet's path through the hooks (netfilter-path.md §1.2): inbound → PREROUTING → input route → INPUT or
 * FORWARD → POSTROUTING; locally generated → output route → OUTPUT (re-route when mangle/nat changed the keys) →
 * POSTROUTING; a local destination then loops back through PREROUTING → INPUT on lo.
 */
import type {HookName} from '../model/ruleset.ts'
import type {Disposition} from './events.ts'
import {CT_STATUS, type CtView, type PacketState, type RouteResult} from './state.ts'
import type {PacketSpec} from '../model/packet.ts'
import {hookEntries, entryName, type HookEntry} from './pipeline.ts'
import {walkTable, type TableVerdict} from './walk.ts'
import {forwardingOff, ipv6LoopbackOnWire, martian, sourceInvalid} from './input-checks.ts'
import {applyNatRequest, applyStoredMapping, noteTupleClash} from './nat.ts'
import {untracked, type Run} from './run.ts'
import {invert, packetTuple, tupleKey, tupleText, type CtLookup} from './conntrack.ts'

type HookResult = {verdict: 'ACCEPT'} | {verdict: Exclude<TableVerdict, 'ACCEPT'>}

const DISPOSITION_OF: Record<Exclude<TableVerdict, 'ACCEPT'>, Disposition> = {DROP: 'drop', REJECT: 'reject', QUEUE: 'queue', STOLEN: 'stolen'}

/** One entry of a hook's list (a table, conntrack, the NAT core, confirm). */
function runEntry(run: Run, hook: HookName, entry: HookEntry, route?: RouteResult): TableVerdict {
  switch (entry.kind) {
    case 'table': {
      const table = run.env.tables.get(entry.table)
      return table ? walkTable(run, table, hook) : 'ACCEPT'
    }
    case 'conntrack':
      conntrackIn(run, hook)
      return 'ACCEPT'
    case 'nat':
      return natHook(run, hook, entry.manip, route)
    case 'confirm':
      if (run.pkt.ct?.origin === 'new' && !(run.pkt.ct.status & CT_STATUS.CONFIRMED)) {
        run.updateCt({status: run.pkt.ct.status | CT_STATUS.CONFIRMED})
        run.emit({type: 'conntrack', family: run.family, hook, action: 'confirm', state: run.pkt.ct.state, text: `the new entry ${tupleText(run.pkt.ct.orig)} is confirmed (inserted in the conntrack table)`})
      }
      return 'ACCEPT'
  }
}

function runHook(run: Run, hook: HookName, route?: RouteResult): HookResult {
  const entries = hookEntries(hook)
  run.emit({type: 'hook', family: run.family, hook, entries: entries.map(entryName)})
  for (const entry of entries) {
    const v = runEntry(run, hook, entry, route)
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
  const r = run.env.forcedCt ? forcedLookup(pkt, run.env.forcedCt) : (run.env.flow && flowLookup(pkt, run.env.flow)) || run.env.conntrack.lookup(pkt, run.ctTemplate.zone ?? 0, run.env.tcpLoose)
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
  // Without a nat table no NAT hook is registered: nothing binds (iptable_nat registers the NAT core's hooks).
  if (!table) return 'ACCEPT'
  run.natRequests = []
  const v = walkTable(run, table, hook)
  if (v !== 'ACCEPT') return v
  run.updateCt({status: ct.status | done})
  const req = run.natRequests[0]
  if (!req) {
    run.emit({type: 'nat', family: run.family, hook, kind: 'null', from: '', to: '', text: `no ${manip === 'dst' ? 'DNAT' : 'SNAT'} rule matched: null binding (addresses unchanged; the nat table will not be consulted again for this connection)`})
    if (manip === 'src') noteTupleClash(run, hook)
    return 'ACCEPT'
  }
  if (applyNatRequest(run, hook, req.effect.nat, req.at, route) !== 'ok') return 'DROP'
  if (manip === 'src') noteTupleClash(run, hook)
  return 'ACCEPT'
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

/** Inbound packet (or a looped-back local one): PREROUTING and on, with input routing's refusals in kernel order. */
export function inbound(run: Run): Disposition {
  const early = ipv6LoopbackOnWire(run)
  if (early) return finish(run, 'drop', null, early)
  let h = runHook(run, 'PREROUTING')
  if (h.verdict !== 'ACCEPT') return verdictEnd(run, 'PREROUTING', h.verdict)
  const m = martian(run)
  if (m) return finish(run, 'drop', null, `${m}; dropped before INPUT/FORWARD`)
  const route = routeInput(run)
  if (route.type === 'local' || route.type === 'broadcast' || route.type === 'multicast') {
    const bad = sourceInvalid(run)
    if (bad) return finish(run, 'drop', null, bad)
    h = runHook(run, 'INPUT')
    if (h.verdict !== 'ACCEPT') return verdictEnd(run, 'INPUT', h.verdict)
    return finish(run, 'local', null, `delivered to a local socket on this host (${run.pkt.dst.text})`)
  }
  if (route.type !== 'unicast') {
    if (route.type === 'none') {
      run.note('routing is unknown (no route dump in the snapshot): assumed forwarded', 'warning')
    } else return routeFailure(run, route)
  }
  const refused = forwardingOff(run) ?? sourceInvalid(run)
  if (refused) return finish(run, 'drop', null, refused)
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
    const v = runEntry(run, hook, entry, route)
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
