/**
 * iproute2 JSON (`ip -j …`) → Interface / Route / IpRule. The JSON is iproute2's print code (ip/ipaddress.c,
 * ip/iproute.c, ip/iprule.c) with `-j`: keys appear only when the attribute is set, so every field is optional
 * and unknown keys are ignored. A malformed entry is reported (`file: entry N: reason`) and skipped; the rest loads.
 */
import {z} from 'zod'
import {parseAddr, parseCidr, makeCidr, type Cidr, type Family, type IpAddr} from '../net/addr.ts'
import {PROTO, protoName} from '../model/packet.ts'
import type {Diagnostic, Interface, IpRule, Route} from '../model/snapshot.ts'

export interface Parsed<T> {
  value: T[]
  diagnostics: Diagnostic[]
  /** False when the file as a whole could not be read (not JSON, not an array): its part stays unknown. */
  ok: boolean
}

/** Reserved table ids (include/uapi/linux/rtnetlink.h rt_class_t); iproute2 prints these by name. */
const TABLE_NAMES: Record<string, string> = {255: 'local', 254: 'main', 253: 'default'}

/** A table id as iproute2 prints it: `local`, `main`, `default` or the number. */
export function tableName(id: string | number): string {
  return TABLE_NAMES[String(id)] ?? String(id)
}

const num = z.union([z.number(), z.string().regex(/^(0x[0-9a-f]+|\d+)$/i).transform(Number)])

const AddrInfo = z.looseObject({
  family: z.string(),
  local: z.string().optional(),
  prefixlen: z.number(),
  scope: z.string().optional(),
  secondary: z.boolean().optional(),
})
const Link = z.looseObject({
  ifindex: z.number(),
  ifname: z.string(),
  flags: z.array(z.string()).default([]),
  operstate: z.string().optional(),
  group: z.union([z.string(), z.number()]).optional(),
  address: z.string().optional(),
  master: z.string().optional(),
  linkinfo: z.looseObject({info_kind: z.string().optional()}).optional(),
  addr_info: z.array(z.union([AddrInfo, z.looseObject({})])).optional(),
})
const Nexthop = z.looseObject({gateway: z.string().optional(), dev: z.string().optional()})
const RouteJson = z.looseObject({
  type: z.string().optional(),
  dst: z.string(),
  gateway: z.string().optional(),
  via: z.looseObject({family: z.string().optional(), host: z.string()}).optional(),
  dev: z.string().optional(),
  table: z.union([z.string(), z.number()]).optional(),
  protocol: z.string().optional(),
  scope: z.string().optional(),
  prefsrc: z.string().optional(),
  metric: z.number().optional(),
  pref: z.string().optional(),
  nexthops: z.array(Nexthop).optional(),
})
const RuleJson = z.looseObject({
  priority: z.number(),
  not: z.null().optional(),
  src: z.string().optional(),
  srclen: z.number().optional(),
  dst: z.string().optional(),
  dstlen: z.number().optional(),
  iif: z.string().optional(),
  iif_detached: z.null().optional(),
  oif: z.string().optional(),
  oif_detached: z.null().optional(),
  fwmark: num.optional(),
  fwmask: num.optional(),
  tos: num.optional(),
  dsfield: num.optional(),
  ipproto: z.union([z.string(), z.number()]).optional(),
  sport: z.number().optional(),
  sport_start: z.number().optional(),
  sport_end: z.number().optional(),
  dport: z.number().optional(),
  dport_start: z.number().optional(),
  dport_end: z.number().optional(),
  uid_start: z.number().optional(),
  uid_end: z.number().optional(),
  table: z.union([z.string(), z.number()]).optional(),
  goto: z.number().optional(),
  nop: z.null().optional(),
  action: z.string().optional(),
  suppress_prefixlen: z.number().optional(),
})

/** Parses the JSON array, then each entry with `schema`; bad entries become diagnostics. */
function entries<S extends z.ZodType, T>(text: string, file: string, schema: S, build: (e: z.infer<S>) => T | undefined): Parsed<T> {
  const diagnostics: Diagnostic[] = []
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (e) {
    return {value: [], ok: false, diagnostics: [{file, severity: 'error', message: `not JSON: ${(e as Error).message}`}]}
  }
  if (!Array.isArray(data)) return {value: [], ok: false, diagnostics: [{file, severity: 'error', message: 'expected a JSON array'}]}
  const value: T[] = []
  data.forEach((raw, i) => {
    const r = schema.safeParse(raw)
    if (!r.success) {
      const why = r.error.issues.map((iss) => `${iss.path.join('.') || 'entry'}: ${iss.message}`).join('; ')
      diagnostics.push({file, severity: 'error', message: `entry ${i + 1}: ${why}`})
      return
    }
    try {
      const v = build(r.data)
      if (v !== undefined) value.push(v)
    } catch (e) {
      diagnostics.push({file, severity: 'error', message: `entry ${i + 1}: ${(e as Error).message}`})
    }
  })
  return {value, diagnostics, ok: true}
}

function interfaceOf(l: z.infer<typeof Link>): Interface {
  const addrs: Interface['addrs'] = []
  for (const a of l.addr_info ?? []) {
    const info = AddrInfo.safeParse(a)
    // inet/inet6 only: `ip addr` also lists link-layer entries on some devices.
    if (!info.success || !info.data.local || (info.data.family !== 'inet' && info.data.family !== 'inet6')) continue
    addrs.push({addr: parseAddr(info.data.local), prefix: info.data.prefixlen, secondary: info.data.secondary === true, scope: info.data.scope ?? 'global'})
  }
  return {
    name: l.ifname,
    index: l.ifindex,
    kind: l.linkinfo?.info_kind,
    // IFF_UP (administrative state), as `ip link set up` sets it; addresses on a DOWN device are still local.
    up: l.flags.includes('UP'),
    mac: l.address,
    group: l.group === undefined ? undefined : l.group === 'default' ? 0 : Number(l.group),
    master: l.master,
    addrs,
  }
}

/** `ip -j addr show` or `ip -j -d link show`: one Interface per device (link output has no addresses). */
export function parseIpInterfaces(text: string, file: string): Parsed<Interface> {
  return entries(text, file, Link, interfaceOf)
}

/** Link details (kind, master, group) from `ip -j -d link show` merged into the `ip -j addr show` devices. */
export function mergeInterfaces(fromAddr: Interface[] | undefined, fromLink: Interface[] | undefined): Interface[] {
  if (!fromLink) return fromAddr ?? []
  const addrsByName = new Map((fromAddr ?? []).map((i) => [i.name, i.addrs]))
  const merged = fromLink.map((l) => ({...l, addrs: addrsByName.get(l.name) ?? []}))
  const known = new Set(fromLink.map((l) => l.name))
  return [...merged, ...(fromAddr ?? []).filter((i) => !known.has(i.name))]
}

function addrOrUndefined(s: string | undefined): IpAddr | undefined {
  return s === undefined ? undefined : parseAddr(s)
}

/** `default`, a prefix, or a host address (no `/`: full length). */
function routeDst(dst: string, family: Family): Cidr {
  if (dst === 'default') return makeCidr(parseAddr(family === 4 ? '0.0.0.0' : '::'), 0)
  return parseCidr(dst)
}

/**
 * The family of an entry of `ip -j route show table all`: without `-4`, iproute2 6.x dumps IPv6 routes too.
 * IPv6 routes always carry `pref`; any address decides otherwise.
 */
function routeFamily(r: z.infer<typeof RouteJson>, fallback: Family): Family {
  for (const a of [r.dst === 'default' ? undefined : r.dst, r.gateway, r.via?.host, r.prefsrc, ...(r.nexthops ?? []).map((n) => n.gateway)]) {
    if (a) return a.includes(':') ? 6 : 4
  }
  return r.pref !== undefined ? 6 : fallback
}

function routeText(r: Omit<Route, 'text'>, protocol?: string): string {
  const parts = [r.type === 'unicast' ? '' : r.type, r.dst.prefix === 0 ? 'default' : r.dst.prefix === (r.family === 4 ? 32 : 128) ? r.dst.addr.text : r.dst.text]
  if (r.gateway) parts.push(`via ${r.gateway.text}`)
  if (r.dev) parts.push(`dev ${r.dev}`)
  for (const n of r.nexthops ?? []) parts.push(`nexthop${n.gateway ? ` via ${n.gateway.text}` : ''}${n.dev ? ` dev ${n.dev}` : ''}`)
  if (r.table !== 'main') parts.push(`table ${r.table}`)
  if (protocol) parts.push(`proto ${protocol}`)
  if (r.scope) parts.push(`scope ${r.scope}`)
  if (r.prefsrc) parts.push(`src ${r.prefsrc.text}`)
  if (r.metric) parts.push(`metric ${r.metric}`)
  return parts.filter(Boolean).join(' ')
}

/**
 * `ip -j route show table all` (family 4) or `ip -j -6 route show table all` (6). Entries of the other family are
 * dropped (they belong to the other file). `table` missing = main; a missing `type` = unicast.
 */
export function parseIpRoutes(text: string, file: string, family: Family): Parsed<Route> {
  return entries(text, file, RouteJson, (j) => {
    if (routeFamily(j, family) !== family) return undefined
    const r: Omit<Route, 'text'> = {
      family,
      type: j.type ?? 'unicast',
      dst: routeDst(j.dst, family),
      table: tableName(j.table ?? 'main'),
      dev: j.dev,
      gateway: addrOrUndefined(j.gateway ?? j.via?.host),
      prefsrc: addrOrUndefined(j.prefsrc),
      metric: j.metric ?? 0,
      scope: j.scope,
      nexthops: j.nexthops?.map((n) => ({dev: n.dev, gateway: addrOrUndefined(n.gateway)})),
    }
    if (r.dst.family !== family) throw new Error(`dst ${j.dst} is not IPv${family}`)
    return {...r, text: routeText(r, j.protocol)}
  })
}

/** iproute2 prints ipproto by /etc/protocols name. */
const IPPROTO_ALIASES: Record<string, number> = {'ipv6-icmp': PROTO.icmpv6, icmp6: PROTO.icmpv6}

function ipproto(p: string | number): number {
  if (typeof p === 'number') return p
  const n = (PROTO as Record<string, number>)[p] ?? IPPROTO_ALIASES[p] ?? (/^\d+$/.test(p) ? Number(p) : undefined)
  if (n === undefined) throw new Error(`unknown ipproto ${p}`)
  return n
}

function range(single: number | undefined, start: number | undefined, end: number | undefined): [number, number] | undefined {
  if (start !== undefined) return [start, end ?? start]
  return single === undefined ? undefined : [single, single]
}

function ruleSelector(addr: string | undefined, len: number | undefined, family: Family): Cidr | undefined {
  if (addr === undefined || addr === 'all') return undefined
  return makeCidr(parseAddr(addr), len ?? (family === 4 ? 32 : 128))
}

const RULE_ACTIONS = ['blackhole', 'unreachable', 'prohibit'] as const

function ruleText(r: Omit<IpRule, 'text'>, detached: {iif: boolean; oif: boolean}): string {
  const sel = (c: Cidr | undefined) => (c ? (c.prefix === (r.family === 4 ? 32 : 128) ? c.addr.text : c.text) : 'all')
  const parts = [`${r.priority}:`, r.not ? 'not' : '', `from ${sel(r.src)}`]
  if (r.dst) parts.push(`to ${sel(r.dst)}`)
  if (r.tos) parts.push(`tos 0x${r.tos.toString(16)}`)
  if (r.fwmark !== undefined) parts.push(`fwmark 0x${r.fwmark.toString(16)}${r.fwmask !== 0xffffffff ? `/0x${r.fwmask!.toString(16)}` : ''}`)
  if (r.iif) parts.push(`iif ${r.iif}${detached.iif ? ' [detached]' : ''}`)
  if (r.oif) parts.push(`oif ${r.oif}${detached.oif ? ' [detached]' : ''}`)
  if (r.ipproto !== undefined) parts.push(`ipproto ${protoName(r.ipproto)}`)
  const rng = (n: string, v?: [number, number]) => v && parts.push(`${n} ${v[0] === v[1] ? v[0] : `${v[0]}-${v[1]}`}`)
  rng('sport', r.sport)
  rng('dport', r.dport)
  rng('uidrange', r.uidrange)
  if (r.action === 'lookup') parts.push(`lookup ${r.table}`)
  else if (r.action === 'goto') parts.push(`goto ${r.gotoTarget}`)
  else parts.push(r.action)
  if (r.suppressPrefixlen !== undefined) parts.push(`suppress_prefixlength ${r.suppressPrefixlen}`)
  return parts.filter(Boolean).join(' ')
}

/**
 * `ip -j rule show` / `ip -j -6 rule show`. A printed fwmark without fwmask has mask 0xffffffff (iproute2 omits
 * the full mask). `iif_detached`/`oif_detached` (device absent) only shows in the text: the router sees the device
 * is missing from the snapshot's interfaces and never matches the rule, as the kernel does with ifindex -1.
 */
export function parseIpRules(text: string, file: string, family: Family): Parsed<IpRule> {
  return entries(text, file, RuleJson, (j) => {
    const action: IpRule['action'] = j.goto !== undefined ? 'goto' : j.nop === null ? 'nop'
      : RULE_ACTIONS.find((a) => a === j.action) ?? 'lookup'
    if (j.action !== undefined && !RULE_ACTIONS.some((a) => a === j.action)) throw new Error(`unknown rule action ${j.action}`)
    const r: Omit<IpRule, 'text'> = {
      family,
      priority: j.priority,
      not: j.not === null,
      src: ruleSelector(j.src, j.srclen, family),
      dst: ruleSelector(j.dst, j.dstlen, family),
      iif: j.iif,
      oif: j.oif,
      fwmark: j.fwmark,
      fwmask: j.fwmark !== undefined ? (j.fwmask ?? 0xffffffff) : undefined,
      tos: j.tos ?? j.dsfield,
      ipproto: j.ipproto === undefined ? undefined : ipproto(j.ipproto),
      sport: range(j.sport, j.sport_start, j.sport_end),
      dport: range(j.dport, j.dport_start, j.dport_end),
      uidrange: range(undefined, j.uid_start, j.uid_end),
      action,
      table: action === 'lookup' ? tableName(j.table ?? 'main') : undefined,
      gotoTarget: j.goto,
      suppressPrefixlen: j.suppress_prefixlen,
    }
    return {...r, text: ruleText(r, {iif: j.iif_detached === null, oif: j.oif_detached === null})}
  })
}
