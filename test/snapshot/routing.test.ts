/**
 * Routing over the real netns-basic fixture (generate-netns-basic.sh). Expected answers are what the kernel said
 * for the same namespace (`ip route get …`, Linux 6.18) when the fixture was made.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {mergeInterfaces, parseIpInterfaces, parseIpRoutes, parseIpRules} from '../../src/parse/ip-json.ts'
import {parseSysctl} from '../../src/parse/sysctl.ts'
import {createRouter} from '../../src/snapshot/routing.ts'
import {parseAddr} from '../../src/net/addr.ts'
import {RTN, type RouteQuery} from '../../src/engine/state.ts'
import type {Route} from '../../src/model/snapshot.ts'

const read = (f: string) => readFileSync(new URL(`../fixtures/snapshot/netns-basic/${f}`, import.meta.url), 'utf8')
const fixture = {
  interfaces: mergeInterfaces(parseIpInterfaces(read('ip-addr.json'), 'a').value, parseIpInterfaces(read('ip-link.json'), 'l').value),
  routes: [...parseIpRoutes(read('ip-route.json'), 'r', 4).value, ...parseIpRoutes(read('ip6-route.json'), 'r6', 6).value],
  rules: [...parseIpRules(read('ip-rule.json'), 'u', 4).value, ...parseIpRules(read('ip6-rule.json'), 'u6', 6).value],
  sysctl: parseSysctl(read('sysctl.txt'), 's').values,
}
const router = createRouter(fixture)

function get(dst: string, q: Partial<Omit<RouteQuery, 'dst' | 'src'>> & {src?: string} = {}) {
  const {src, ...rest} = q
  const a = parseAddr(dst)
  return router.lookup({family: a.family, dst: a, mark: 0, tos: 0, ...rest, src: src ? parseAddr(src) : undefined})
}
const brief = (r: ReturnType<typeof get>) => `${r.type} ${r.gateway?.text ?? '-'} ${r.dev ?? '-'} ${r.table ?? '-'}`

test('no mark: main table default route; rule 100 (fwmark 0x1/0x1) is consulted and does not match', () => {
  const r = get('8.8.8.8')
  assert.equal(brief(r), 'unicast 192.168.10.254 c0 main')
  assert.deepEqual(r.rules.find((x) => x.priority === 100), {priority: 100, text: '100: from all fwmark 0x1/0x1 lookup 100', matched: false, note: 'mark 0x0 does not match'})
  assert.equal(r.rules.at(-1)!.priority, 32766)
  assert.match(r.explanation, /via 192\.168\.10\.254 dev c0.*table main \(rule 32766\)/)
})

test('fwmark/mask picks table 100 for any mark with bit 0 set, not for 0x2', () => {
  assert.equal(brief(get('8.8.8.8', {mark: 1})), 'unicast 10.20.0.2 s0 100')
  assert.equal(brief(get('8.8.8.8', {mark: 0xff})), 'unicast 10.20.0.2 s0 100')
  assert.equal(get('8.8.8.8', {mark: 2}).table, 'main')
})

test('throw in table 100 continues with the next rules and ends in main', () => {
  const r = get('10.99.1.1', {mark: 3})
  assert.equal(brief(r), 'unicast 192.168.10.254 c0 main')
  assert.match(r.rules.find((x) => x.priority === 100)!.note!, /throw/)
  assert.equal(r.rules.find((x) => x.priority === 100)!.matched, true)
})

test('longest prefix wins over metric; among equal prefixes the lowest metric wins', () => {
  assert.equal(brief(get('10.30.5.1')), 'unicast 10.20.0.2 s0 main')
  assert.equal(get('10.30.1.1').routeText, '10.30.0.0/16 via 10.20.0.2 dev s0 metric 50')
})

test('blackhole/prohibit/unreachable routes and a prohibit rule', () => {
  assert.equal(get('10.66.1.1').type, 'blackhole')
  assert.equal(get('10.67.1.1').type, 'prohibit')
  assert.equal(get('10.68.1.1').type, 'unreachable')
  const r = get('10.55.1.1')
  assert.equal(r.type, 'prohibit')
  assert.match(r.explanation, /400: from all to 10\.55\.0\.0\/16 prohibit/)
  assert.equal(get('fd00:66::1').type, 'blackhole')
})

test('from + iif select table 200 only for packets arriving on c0; locally generated packets use iif lo', () => {
  assert.equal(get('172.16.1.1', {src: '192.168.50.7', iif: 'c0'}).rules.at(-1)!.priority, 200)
  const local = get('172.16.1.1', {src: '192.168.50.7'})
  assert.equal(local.rules.find((x) => x.priority === 200)!.note, 'iif lo is not c0')
  assert.equal(local.rules.at(-1)!.priority, 300, 'table 200 is reached later through the inverted rule 300 instead')
})

test('`not` inverts the whole selector set (rule 300: not to 10/8 fwmark 0x2)', () => {
  assert.equal(brief(get('172.16.1.1', {mark: 2})), 'unicast 10.20.0.2 s0 200')
  assert.equal(get('10.30.1.1', {mark: 2}).rules.find((x) => x.priority === 300)!.matched, false)
  // Without the mark the selectors miss, so the inverted rule matches; table 200 has no route for 8.8.8.8.
  const r = get('8.8.8.8')
  assert.equal(r.rules.find((x) => x.priority === 300)!.matched, true)
  assert.equal(r.table, 'main')
})

test('goto jumps to the rule with that priority; suppress_prefixlength 0 ignores default routes', () => {
  const g = get('8.8.8.8', {mark: 4})
  assert.deepEqual(g.rules.slice(-2).map((x) => x.priority), [500, 32766])
  const sp = get('8.8.8.8', {mark: 8})
  assert.match(sp.rules.find((x) => x.priority === 600)!.note!, /suppress_prefixlength 0/)
  assert.equal(sp.rules.at(-1)!.priority, 32766)
  assert.equal(get('10.30.1.1', {mark: 8}).rules.at(-1)!.priority, 600, 'a /16 is longer than the suppress length')
})

test('ipproto + dport selector', () => {
  assert.equal(get('1.1.1.1', {proto: 6, dport: 443}).table, '100')
  assert.equal(get('1.1.1.1', {proto: 17, dport: 443}).table, 'main')
})

test('local delivery through table local, also for an address on a DOWN device', () => {
  const r = get('10.96.0.10', {iif: 'c0', src: '192.168.10.100'})
  assert.deepEqual([r.type, r.table, r.dev], ['local', 'local', 'kube-ipvs0'])
  assert.equal(get('192.168.10.2', {iif: 'c0'}).type, 'local', 'secondary address')
  assert.equal(get('10.20.0.255').type, 'broadcast')
  assert.equal(get('255.255.255.255').type, 'broadcast')
})

test('IPv6: fwmark rule and main default; multipath takes the first hop and says so', () => {
  assert.equal(brief(get('2001:db8::1', {mark: 1})), 'unicast fd00:10::100 c0 100')
  assert.equal(brief(get('2001:db8::1')), 'unicast fd00:20::2 s0 main')
  assert.equal(get('fd00:20::1').type, 'local')
  assert.match(get('10.40.1.1').explanation, /first of 2 next hops/)
})

test('no route anywhere → unreachable; no route tables in the snapshot → none, routing unknown', () => {
  const only = createRouter({...fixture, routes: fixture.routes.filter((r) => r.table === 'local')})
  assert.equal(only.lookup({family: 4, dst: parseAddr('8.8.8.8'), mark: 0, tos: 0}).type, 'unreachable')
  const none = createRouter({...fixture, routes: []}).lookup({family: 4, dst: parseAddr('8.8.8.8'), mark: 0, tos: 0})
  assert.equal(none.type, 'none')
  assert.match(none.explanation, /unknown/)
})

test('without ip rule dumps the default rules apply (0 local, 32766 main, 32767 default)', () => {
  const extra: Route = {...fixture.routes.find((r) => r.dst.prefix === 0 && r.table === 'main' && r.family === 4)!, table: 'default', text: 'x'}
  const r = createRouter({...fixture, rules: [], routes: [...fixture.routes.filter((x) => !(x.table === 'main' && x.dst.prefix === 0)), extra]})
  const res = r.lookup({family: 4, dst: parseAddr('8.8.8.8'), mark: 1, tos: 0})
  assert.deepEqual(res.rules.map((x) => x.priority), [0, 32766, 32767])
  assert.equal(res.table, 'default')
})

test('addrType: table local only; LOCAL for an address on a DOWN device; broadcast/multicast ranges; dev limit', () => {
  const t = (a: string, dev?: string) => router.addrType(parseAddr(a), dev)
  assert.equal(t('10.96.0.10'), RTN.LOCAL)
  assert.equal(t('10.96.0.10', 'kube-ipvs0'), RTN.LOCAL)
  assert.equal(t('10.96.0.10', 'c0'), RTN.UNICAST)
  assert.equal(t('127.1.2.3'), RTN.LOCAL)
  assert.equal(t('10.20.0.255'), RTN.BROADCAST)
  assert.equal(t('0.1.2.3'), RTN.BROADCAST)
  assert.equal(t('255.255.255.255'), RTN.BROADCAST)
  assert.equal(t('239.1.1.1'), RTN.MULTICAST)
  assert.equal(t('10.66.1.1'), RTN.UNICAST, 'a blackhole in main is not in table local')
  assert.equal(t('fd00:10::1'), RTN.LOCAL)
  assert.equal(t('fd00:10::'), RTN.ANYCAST)
  assert.equal(t('ff02::1'), RTN.MULTICAST)
  assert.equal(t('fd00:66::1'), RTN.UNREACHABLE)
  assert.equal(t('2001:db8::1'), RTN.UNICAST)
})

test('rp_filter is the max of all and the device; IPv6 has none', () => {
  assert.equal(router.rpFilter('c0', 4), 1)
  assert.equal(router.rpFilter('s0', 4), 2)
  assert.equal(router.rpFilter('lo', 4), 0)
  const strictAll = createRouter({...fixture, sysctl: new Map([...fixture.sysctl, ['net.ipv4.conf.all.rp_filter', '1']])})
  assert.equal(strictAll.rpFilter('lo', 4), 1)
  assert.equal(strictAll.rpFilter('s0', 4), 2)
  assert.equal(router.rpFilter('c0', 6), 0)
})

test('device addresses (primary first), groups, presence; a rule on an absent device never matches', () => {
  assert.deepEqual(router.deviceAddrs('c0', 4).map((a) => a.text), ['192.168.10.1', '192.168.10.2'])
  assert.deepEqual(router.deviceAddrs('c0', 6).map((a) => a.text), ['fd00:10::1', 'fe80::b021:c8ff:fe82:b5ff'])
  assert.equal(router.deviceGroup('s0'), 7)
  assert.equal(router.deviceGroup('c0'), 0)
  assert.equal(router.deviceGroup('nope'), undefined)
  assert.equal(router.hasDevice('kube-ipvs0'), true)
  assert.equal(router.hasDevice('eth9'), false)
  const detached = createRouter({...fixture, rules: parseIpRules(readFileSync(new URL('../fixtures/snapshot/ip-rule-selectors.json', import.meta.url), 'utf8'), 'u', 4).value})
  const r = detached.lookup({family: 4, dst: parseAddr('8.8.8.8'), mark: 0, tos: 0, oif: 'a'})
  assert.match(r.rules.find((x) => x.priority === 12)!.note!, /oif a/)
  assert.equal(r.rules.find((x) => x.priority === 12)!.matched, false)
})
