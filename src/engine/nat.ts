/**
 * The NAT core (net/netfilter/nf_nat_core.c): turns a NAT target's request into a mapping on the connection,
 * and applies stored mappings to later packets and replies without consulting the nat table.
 * Address choice: nf_nat_masquerade.c (MASQUERADE), nf_nat_redirect.c (REDIRECT), xt_NETMAP.c (NETMAP).
 */
import {compareAddr, fromBytes, parseAddr, parseCidr, type IpAddr} from '../net/addr.ts'
import type {HookName} from '../model/ruleset.ts'
import {PROTO} from '../model/packet.ts'
import type {NatRequest} from '../targets/types.ts'
import {CT_STATUS, type CtView, type PacketState, type RouteResult, type Tuple} from './state.ts'
import {invert, tupleText} from './conntrack.ts'
import type {Run} from './run.ts'

export function hostPort(addr: IpAddr, port?: number): string {
  if (port === undefined) return addr.text
  return addr.family === 6 ? `[${addr.text}]:${port}` : `${addr.text}:${port}`
}

interface Mapping {
  addr: IpAddr
  port?: number
  /** What was chosen where the kernel's choice depends on hashing or randomness. */
  caveat?: string
  /** Where the kernel may put the address / port instead of what is shown (inclusive). */
  addrRange?: [string, string]
  portRange?: [number, number]
  /** The ICMP id is remapped (unknown value). */
  newIcmpId?: boolean
}

/** The address/port a request maps to, or a reason it cannot (the kernel then drops the packet). */
function chooseMapping(run: Run, hook: HookName, req: NatRequest, route: RouteResult | undefined): Mapping | string {
  const pkt = run.pkt
  const manipDst = req.type === 'dnat' || req.type === 'redirect' || (req.type === 'netmap' && (hook === 'PREROUTING' || hook === 'OUTPUT'))
  const cur = manipDst ? pkt.dst : pkt.src
  const curPort = manipDst ? pkt.dport : pkt.sport
  const hasPorts = pkt.sport !== undefined
  const caveats: string[] = []
  let addr: IpAddr = cur
  let addrRange: [string, string] | undefined
  let portRange: [number, number] | undefined
  switch (req.type) {
    case 'dnat':
    case 'snat':
      if (req.addrMin) {
        addr = parseAddr(req.addrMin)
        if (req.addrMax && compareAddr(parseAddr(req.addrMax), addr) !== 0) {
          addrRange = [req.addrMin, req.addrMax]
          caveats.push(`the kernel picks one address of ${req.addrMin}-${req.addrMax} by a hash of the connection's addresses${req.persistent ? ' (--persistent: of the source only)' : ''}; shown: the first`)
        }
      }
      break
    case 'masquerade': {
      // nf_nat_masquerade_ipv4: inet_select_addr(out dev, next hop, RT_SCOPE_UNIVERSE).
      const dev = pkt.oif
      if (!dev) return 'MASQUERADE without an output interface'
      const nh = route?.gateway ?? pkt.dst
      const chosen = selectSourceAddr(run, dev, nh)
      if (!chosen) return `interface ${dev} has no ${pkt.family === 4 ? 'IPv4' : 'IPv6'} address to masquerade with`
      addr = chosen
      break
    }
    case 'redirect': {
      if (hook === 'OUTPUT') addr = parseAddr(pkt.family === 4 ? '127.0.0.1' : '::1')
      else {
        const first = pkt.iif ? run.env.router.deviceAddrs(pkt.iif, pkt.family)[0] : undefined
        if (!first) return `input interface ${pkt.iif ?? '?'} has no ${pkt.family === 4 ? 'IPv4' : 'IPv6'} address (REDIRECT drops)`
        addr = first
      }
      break
    }
    case 'netmap': {
      const to = parseCidr(req.prefix!)
      const bytes = new Uint8Array(cur.bytes)
      for (let i = 0; i < bytes.length; i++) {
        const keep = Math.max(0, Math.min(8, to.prefix - i * 8))
        const m = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff
        bytes[i] = (to.addr.bytes[i] & m) | (bytes[i] & ~m & 0xff)
      }
      addr = fromBytes(pkt.family, bytes)
      break
    }
  }
  let port = curPort
  if (hasPorts && req.portMin !== undefined) {
    const max = req.portMax ?? req.portMin
    // get_unique_tuple keeps a port already in the range (both directions, seen on 6.18), else picks one in it.
    if (curPort !== undefined && curPort >= req.portMin && curPort <= max) port = curPort
    else port = req.portMin
    if (max !== req.portMin) portRange = [req.portMin, max]
    if (max !== req.portMin) caveats.push(`the port is chosen from ${req.portMin}-${max} (the original port is kept when it is in range and free)`)
  }
  if (hasPorts && (req.randomFully || req.random)) {
    // nf_nat_l4proto_unique_tuple: without --to-ports the range is 1024-65535 for ports >= 1024 (512-1023 / 1-511 below).
    const cp = curPort ?? 0
    portRange ??= req.portMin !== undefined ? [req.portMin, req.portMax ?? req.portMin] : cp >= 1024 ? [1024, 65535] : cp >= 512 ? [600, 1023] : [1, 511]
    caveats.push(`${req.randomFully ? '--random-fully: the port is random' : '--random: the port comes from a keyed hash of the connection'} in ${portRange[0]}-${portRange[1]}`)
  }
  // ICMP's "port" is the echo id (nf_nat_proto.c icmp_manip_pkt): random NAT gives the connection a new id.
  const icmpId = (pkt.proto === PROTO.icmp || pkt.proto === PROTO.icmpv6) && pkt.icmpType !== undefined && (req.randomFully === true || req.random === true)
  if (icmpId) caveats.push(`${req.randomFully ? '--random-fully' : '--random'}: the ICMP id ${pkt.icmpId ?? 0} is replaced by another one`)
  return {addr, port, caveat: caveats.join('; ') || undefined, addrRange, portRange, newIcmpId: icmpId}
}

/** inet_select_addr: first primary address of the device whose subnet holds the next hop, else the first primary. */
function selectSourceAddr(run: Run, dev: string, nextHop: IpAddr): IpAddr | undefined {
  const iface = run.env.interfaces.get(dev)
  const addrs = (iface?.addrs ?? []).filter((a) => a.addr.family === nextHop.family && !a.secondary && a.scope !== 'host' && a.scope !== 'link')
  for (const a of addrs) {
    const net = parseCidr(`${a.addr.text}/${a.prefix}`)
    if (compareAddr(net.addr, parseCidr(`${nextHop.text}/${a.prefix}`).addr) === 0) return a.addr
  }
  return addrs[0]?.addr ?? run.env.router.deviceAddrs(dev, nextHop.family)[0]
}

/**
 * Applies a matched NAT target's request for this hook's manip: rewrites the packet, and records the mapping in
 * the connection's reply tuple with SRC_NAT/DST_NAT status, as nf_nat_setup_info does.
 */
export function applyNatRequest(run: Run, hook: HookName, req: NatRequest, at: {table: string; chain: string; index: number}, route?: RouteResult): 'ok' | 'drop' {
  const pkt = run.pkt
  const m = chooseMapping(run, hook, req, route)
  const family = run.family
  if (typeof m === 'string') {
    run.note(`${req.type.toUpperCase()} failed: ${m}; the kernel drops the packet`, 'warning')
    return 'drop'
  }
  const dst = req.type === 'dnat' || req.type === 'redirect' || (req.type === 'netmap' && (hook === 'PREROUTING' || hook === 'OUTPUT'))
  const from = dst ? hostPort(pkt.dst, pkt.dport) : hostPort(pkt.src, pkt.sport)
  // A port the kernel picks from a range is shown as that range, not as a made-up value.
  const to = m.portRange ? `${m.addr.family === 6 ? `[${m.addr.text}]` : m.addr.text}:${m.portRange[0]}-${m.portRange[1]}` : hostPort(m.addr, m.port)
  if (dst) run.update({dst: m.addr, dport: m.port})
  else run.update({src: m.addr, sport: m.port})
  const ct = run.pkt.ct
  if (ct) {
    // ICMP has no ports to map: its tuple's id and type stay as they are.
    const ports = m.port !== undefined
    const reply: Tuple = dst ? {...ct.reply, src: m.addr, ...(ports ? {sport: m.port} : {})} : {...ct.reply, dst: m.addr, ...(ports ? {dport: m.port} : {})}
    // nf_nat_setup_info marks the connection NATed only when the mapping changed the tuple (an identity mapping is not).
    // With --random/--random-fully the kernel does not try the original port first, so the tuple changes.
    const changed = from !== hostPort(m.addr, m.port) || ((req.random === true || req.randomFully === true) && m.port !== undefined) || m.newIcmpId === true
    run.updateCt({reply, status: ct.status | (changed ? (dst ? CT_STATUS.DST_NAT : CT_STATUS.SRC_NAT) : 0)})
  }
  const what = {dnat: 'DNAT', snat: 'SNAT', masquerade: 'MASQUERADE', redirect: 'REDIRECT', netmap: 'NETMAP'}[req.type]
  const side = dst ? 'destination' : 'source'
  run.emit({
    type: 'nat', family, hook, kind: req.type, from, to, ...at,
    ...(m.addrRange ? {addrRange: m.addrRange} : {}), ...(m.portRange ? {portRange: m.portRange} : {}),
    text: `${what}: ${side} ${from} → ${to}${m.caveat ? ` (${m.caveat})` : ''}; replies will come ${dst ? `from ${to}` : `to ${to}`}`,
  })
  return 'ok'
}

/**
 * For a packet of a known connection: the nat table is not consulted; the stored mapping is applied
 * (original direction: DST at PREROUTING/OUTPUT, SRC at POSTROUTING/INPUT; replies: the inverse).
 */
export function applyStoredMapping(run: Run, hook: HookName, manip: 'dst' | 'src', ct: CtView): void {
  const pkt = run.pkt
  // The packet's tuple must become the *other* direction's inverted tuple.
  const target = ct.dir === 'ORIGINAL' ? invert(ct.reply) : invert(ct.orig)
  const from = manip === 'dst' ? hostPort(pkt.dst, pkt.dport) : hostPort(pkt.src, pkt.sport)
  const addr = manip === 'dst' ? target.dst : target.src
  // An ICMP error has no ports of its own: only its addresses follow the connection (nf_nat_icmp_reply_translation).
  const port = pkt.sport === undefined ? undefined : manip === 'dst' ? target.dport : target.sport
  const to = hostPort(addr, port)
  if (from === to) return
  if (manip === 'dst') run.update({dst: addr, dport: port})
  else run.update({src: addr, sport: port})
  const kind = ct.dir === 'REPLY' ? 'reverse' : manip === 'dst' ? 'dnat' : 'snat'
  run.emit({
    type: 'nat', family: run.family, hook, kind, from, to,
    text: `${ct.dir === 'REPLY' ? 'reply' : 'later packet'}: ${manip === 'dst' ? 'destination' : 'source'} ${from} → ${to} from conntrack entry ${ct.origin}; the nat table is not consulted`,
  })
}

export function natDescription(pkt: PacketState): string {
  return `${hostPort(pkt.src, pkt.sport)} → ${hostPort(pkt.dst, pkt.dport)}`
}

/**
 * A new connection's source manip (SNAT/MASQUERADE, or the null binding) must leave a reply tuple no other entry
 * uses; otherwise get_unique_tuple() changes the source port (nf_nat_core.c nf_nat_used_tuple). Says so when the
 * snapshot's table holds such an entry.
 */
export function noteTupleClash(run: Run, hook: HookName): void {
  const ct = run.pkt.ct
  if (!ct || ct.origin !== 'new' || run.pkt.sport === undefined) return
  const other = run.env.conntrack.holder(ct.reply, ct.zone)
  if (!other) return
  run.note(`the reply tuple ${tupleText(ct.reply)} is already used by conntrack entry ${other.origin} (${tupleText(other.orig)}): at ${hook} the kernel gives this connection another source port (implicit SNAT of the port) — the port shown is the one before that change`, 'warning')
}
