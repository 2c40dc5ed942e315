/**
 * The node's routing as the kernel decides it, over the snapshot's routes, policy rules, devices and sysctls:
 * policy rules in priority order (net/core/fib_rules.c fib_rules_lookup, fib_rule_match; net/ipv4/fib_rules.c
 * fib4_rule_match/fib4_rule_action/fib4_rule_suppress), then longest prefix and lowest metric within a table
 * (net/ipv4/fib_trie.c fib_table_lookup). IPv6 follows the same rule walk (net/ipv6/fib6_rules.c).
 */
import {cidrContains, parseAddr, parseCidr, type Family, type IpAddr} from '../net/addr.ts'
import {RTN, type RouteQuery, type RouteResult, type Router} from '../engine/state.ts'
import type {Interface, IpRule, Route, Snapshot} from '../model/snapshot.ts'
import {sysctlDevKey} from '../parse/sysctl.ts'

type Consulted = RouteResult['rules']

/** Rules the kernel installs per family (fib4_rules_init / fib6_rules_net_init: IPv6 has no `default` rule). */
function defaultRules(family: Family): IpRule[] {
  const rule = (priority: number, table: string): IpRule =>
    ({family, priority, not: false, action: 'lookup', table, text: `${priority}: from all lookup ${table} (default rule: the snapshot has no ip rule dump)`})
  return family === 4 ? [rule(0, 'local'), rule(32766, 'main'), rule(32767, 'default')] : [rule(0, 'local'), rule(32766, 'main')]
}

const ANY: Record<Family, IpAddr> = {4: parseAddr('0.0.0.0'), 6: parseAddr('::')}
const LIMITED_BROADCAST = parseAddr('255.255.255.255')
const V4_ZERONET = parseCidr('0.0.0.0/8')
const V4_MULTICAST = parseCidr('224.0.0.0/4')
const V6_MULTICAST = parseCidr('ff00::/8')

function inRange(v: number, r: [number, number]): boolean {
  return v >= r[0] && v <= r[1]
}

/** Sorted per table: longest prefix first, then lowest metric, then dump order (the kernel's alias order). */
function indexTables(routes: Route[]): Map<string, Route[]> {
  const tables = new Map<string, Route[]>()
  for (const r of routes) {
    const t = tables.get(r.table) ?? []
    t.push(r)
    tables.set(r.table, t)
  }
  for (const t of tables.values()) t.sort((a, b) => b.dst.prefix - a.dst.prefix || a.metric - b.metric)
  return tables
}

function routeDev(r: Route): string | undefined {
  return r.dev ?? r.nexthops?.[0]?.dev
}

export function createRouter(s: Pick<Snapshot, 'interfaces' | 'routes' | 'rules' | 'sysctl'>): Router {
  const devices = new Map<string, Interface>(s.interfaces.map((i) => [i.name, i]))
  const fam = (f: Family) => {
    const routes = s.routes.filter((r) => r.family === f)
    const rules = s.rules.filter((r) => r.family === f)
    return {
      known: routes.length > 0,
      tables: indexTables(routes),
      rules: rules.length ? [...rules].sort((a, b) => a.priority - b.priority) : defaultRules(f),
    }
  }
  const byFamily = {4: fam(4), 6: fam(6)}

  /** fib_table_lookup: the most specific route containing dst; with an oif, only routes through that device. */
  function tableLookup(family: Family, table: string, dst: IpAddr, oif?: string): Route | undefined {
    for (const r of byFamily[family].tables.get(table) ?? []) {
      if (!cidrContains(r.dst, dst)) continue
      const dev = routeDev(r)
      if (oif && dev && dev !== oif) continue
      return r
    }
    return undefined
  }

  /** fib_rule_match + fib4_rule_match. Returns why not, or undefined when it matches (before `not`). */
  function selectorMiss(r: IpRule, q: RouteQuery, iif: string): string | undefined {
    // A rule naming a device the node lacks has ifindex -1 and never matches ("detached").
    const detached = (dev: string) => devices.size > 0 && !devices.has(dev)
    if (r.iif && (r.iif !== iif || detached(r.iif))) return `iif ${iif} is not ${r.iif}${detached(r.iif) ? ' (device absent)' : ''}`
    if (r.oif && (r.oif !== q.oif || detached(r.oif))) return q.oif ? `oif ${q.oif} is not ${r.oif}` : `no output device is bound (oif ${r.oif})`
    if (r.fwmark !== undefined && ((r.fwmark ^ q.mark) & r.fwmask!) >>> 0 !== 0) return `mark 0x${q.mark.toString(16)} does not match`
    // Forwarded and input lookups carry uid 0 (sock_net_uid(net, NULL)).
    if (r.uidrange && !inRange(q.uid ?? 0, r.uidrange)) return `uid ${q.uid ?? 0} is outside ${r.uidrange.join('-')}`
    const src = q.src ?? ANY[q.family]
    if (r.src && !cidrContains(r.src, src)) return `source ${src.text} is not in ${r.src.text}`
    if (r.dst && !cidrContains(r.dst, q.dst)) return `destination ${q.dst.text} is not in ${r.dst.text}`
    // Kernels since 6.x compare the DSCP bits only (inet_dsfield_to_dscp), ECN bits are ignored.
    if (r.tos && (q.tos & 0xfc) !== r.tos) return `tos 0x${q.tos.toString(16)} is not 0x${r.tos.toString(16)}`
    if (r.ipproto !== undefined && r.ipproto !== q.proto) return `protocol ${q.proto ?? 'none'} is not ${r.ipproto}`
    if (r.sport && !inRange(q.sport ?? 0, r.sport)) return `source port ${q.sport ?? 0} is outside ${r.sport.join('-')}`
    if (r.dport && !inRange(q.dport ?? 0, r.dport)) return `destination port ${q.dport ?? 0} is outside ${r.dport.join('-')}`
    return undefined
  }

  function routeResult(route: Route, q: RouteQuery, rule: IpRule, rules: Consulted): RouteResult {
    const hop = route.nexthops?.[0]
    const dev = routeDev(route)
    const gateway = route.gateway ?? hop?.gateway
    const multipath = route.nexthops && route.nexthops.length > 1 ? ` (multipath: first of ${route.nexthops.length} next hops taken)` : ''
    const where = `route "${route.text}" in table ${route.table} (rule ${rule.priority})${multipath}`
    const base = {dev, gateway, prefsrc: route.prefsrc, table: route.table, routeText: route.text, rules}
    switch (route.type) {
      case 'unicast': {
        const type = (q.family === 4 ? cidrContains(V4_MULTICAST, q.dst) : cidrContains(V6_MULTICAST, q.dst)) ? 'multicast' : 'unicast'
        return {...base, type, explanation: `${q.dst.text} goes ${gateway ? `via ${gateway.text} ` : ''}dev ${dev ?? '?'}: ${where}.`}
      }
      case 'local':
      case 'anycast':
        return {...base, type: 'local', explanation: `${q.dst.text} is a local ${route.type === 'anycast' ? 'anycast ' : ''}address, delivered to this host: ${where}.`}
      case 'broadcast':
      case 'multicast':
      case 'blackhole':
      case 'unreachable':
      case 'prohibit':
        return {...base, type: route.type, explanation: `${q.dst.text} hits a ${route.type} route: ${where}.`}
      default:
        return {...base, type: 'unreachable', explanation: `${q.dst.text} hits a ${route.type} route, which nfstep does not model; treated as unreachable: ${where}.`}
    }
  }

  function lookup(q: RouteQuery): RouteResult {
    const f = byFamily[q.family]
    if (!f.known) return {type: 'none', rules: [], explanation: `Routing is unknown: the snapshot has no IPv${q.family} routes.`}
    // ip_route_input_slow / ip_route_output_key_hash_rcu answer 255.255.255.255 before any rule.
    if (q.family === 4 && q.dst.text === LIMITED_BROADCAST.text) {
      return {type: 'broadcast', dev: q.oif ?? q.iif, rules: [], explanation: '255.255.255.255 is the limited broadcast address; no route lookup is done.'}
    }
    // Output lookups use the loopback device as input device (ip_route_output_key_hash: flowi4_iif = LOOPBACK_IFINDEX).
    const iif = q.iif ?? 'lo'
    const rules: Consulted = []
    for (let i = 0; i < f.rules.length; i++) {
      const r = f.rules[i]
      const miss = selectorMiss(r, q, iif)
      const matched = r.not ? miss !== undefined : miss === undefined
      const note = r.not ? (miss ? `${miss}, and the rule is inverted (not)` : 'its selectors match, but the rule is inverted (not)') : miss
      const entry: Consulted[number] = {priority: r.priority, text: r.text, matched, ...(note ? {note} : {})}
      rules.push(entry)
      if (!matched) continue
      if (r.action === 'nop') continue
      if (r.action === 'goto') {
        // The target is the rule with exactly that priority; it is then tested like any rule (fib_rules_lookup `jumped`).
        const target = f.rules.findIndex((x) => x.priority === r.gotoTarget)
        if (target < 0) entry.note = `goto ${r.gotoTarget}: no rule has that priority, so the walk continues`
        else i = target - 1
        continue
      }
      if (r.action !== 'lookup') {
        return {type: r.action, rules, explanation: `Policy rule "${r.text}" makes ${q.dst.text} ${r.action}.`}
      }
      const route = tableLookup(q.family, r.table!, q.dst, q.oif)
      if (!route) {
        entry.note = `table ${r.table} has no route to ${q.dst.text}`
        continue
      }
      if (route.type === 'throw') {
        entry.note = `throw route "${route.text}" in table ${r.table}: the walk continues with the next rule`
        continue
      }
      // fib4_rule_suppress: only a successful lookup can be suppressed; error routes (blackhole…) are final.
      const isError = route.type === 'blackhole' || route.type === 'unreachable' || route.type === 'prohibit'
      if (!isError && r.suppressPrefixlen !== undefined && route.dst.prefix <= r.suppressPrefixlen) {
        entry.note = `route "${route.text}" has prefix length ${route.dst.prefix} <= suppress_prefixlength ${r.suppressPrefixlen}: ignored`
        continue
      }
      return routeResult(route, q, r, rules)
    }
    return {type: 'unreachable', rules, explanation: `No policy rule found a route to ${q.dst.text}: network unreachable.`}
  }

  /** The type of the route matching addr in table local (xt_addrtype.c → inet_dev_addr_type, fib_frontend.c). */
  function localTableType(addr: IpAddr, dev?: string): number | undefined {
    const r = tableLookup(addr.family, 'local', addr)
    if (!r) return undefined
    if (dev && routeDev(r) !== dev) return RTN.UNICAST
    const t = RTN[r.type.toUpperCase() as keyof typeof RTN]
    return t ?? RTN.UNICAST
  }

  function addrType(addr: IpAddr, dev?: string): number {
    if (addr.family === 4) {
      if (cidrContains(V4_ZERONET, addr) || addr.text === LIMITED_BROADCAST.text) return RTN.BROADCAST
      if (cidrContains(V4_MULTICAST, addr)) return RTN.MULTICAST
      if (!byFamily[4].known) return fromInterfaces(addr, dev)
      return localTableType(addr, dev) ?? RTN.UNICAST
    }
    // IPv6 (xt_addrtype.c match_type6): multicast/unspec by address class; LOCAL/ANYCAST from the local routes,
    // UNREACHABLE for a reject route from a full lookup.
    if (cidrContains(V6_MULTICAST, addr)) return RTN.MULTICAST
    if (addr.text === '::') return RTN.UNSPEC
    if (!byFamily[6].known) return fromInterfaces(addr, dev)
    const local = localTableType(addr, dev)
    if (local === RTN.LOCAL || local === RTN.ANYCAST) return local
    const res = lookup({family: 6, dst: addr, mark: 0, tos: 0, oif: dev})
    return res.type === 'blackhole' || res.type === 'unreachable' || res.type === 'prohibit' ? RTN.UNREACHABLE : RTN.UNICAST
  }

  /** Without route dumps, the local table is what configured addresses put there (plus loopback ranges). */
  function fromInterfaces(addr: IpAddr, dev?: string): number {
    const local = s.interfaces.some((i) => (!dev || i.name === dev) && i.addrs.some((a) => a.addr.text === addr.text))
    const loop = addr.family === 4 ? addr.bytes[0] === 127 : addr.text === '::1'
    return local || (loop && (!dev || dev === 'lo')) ? RTN.LOCAL : RTN.UNICAST
  }

  return {
    lookup,
    addrType,
    deviceAddrs(dev, family) {
      const addrs = devices.get(dev)?.addrs.filter((a) => a.addr.family === family) ?? []
      return [...addrs.filter((a) => !a.secondary), ...addrs.filter((a) => a.secondary)].map((a) => a.addr)
    },
    deviceGroup: (dev) => devices.get(dev)?.group,
    rpFilter(dev, family) {
      // IPv6 has no rp_filter sysctl (reverse path checks there are an nft/ip6tables rpfilter match).
      if (family === 6) return 0
      const v = (k: string) => Number(s.sysctl.get(k) ?? 0) || 0
      // IN_DEV_RPFILTER = IN_DEV_MAXCONF(in_dev, RP_FILTER) (include/linux/inetdevice.h).
      return Math.max(v('net.ipv4.conf.all.rp_filter'), v(sysctlDevKey('net.ipv4.conf', dev, 'rp_filter')))
    },
    /** True also when the snapshot lists no devices at all (unknown, not absent). */
    hasDevice: (dev) => devices.size === 0 || devices.has(dev),
  }
}
