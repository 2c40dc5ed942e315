import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {mergeInterfaces, parseIpInterfaces, parseIpRoutes, parseIpRules} from '../../src/parse/ip-json.ts'
import {formatDiagnostic} from '../../src/model/snapshot.ts'

const FX = new URL('../fixtures/snapshot/', import.meta.url)
const read = (f: string) => readFileSync(new URL(f, FX), 'utf8')

test('interfaces merge link details into addresses: DOWN device, group, kind, secondary flag', () => {
  const ifs = mergeInterfaces(parseIpInterfaces(read('netns-basic/ip-addr.json'), 'ip-addr.json').value, parseIpInterfaces(read('netns-basic/ip-link.json'), 'ip-link.json').value)
  const by = new Map(ifs.map((i) => [i.name, i]))
  assert.deepEqual([...by.keys()], ['lo', 'c0', 's0', 'kube-ipvs0'])
  assert.equal(by.get('kube-ipvs0')!.up, false)
  assert.equal(by.get('kube-ipvs0')!.addrs[0].addr.text, '10.96.0.10')
  assert.equal(by.get('c0')!.up, true)
  assert.equal(by.get('c0')!.kind, 'veth')
  assert.equal(by.get('s0')!.group, 7)
  assert.equal(by.get('c0')!.group, 0, '"default" group is 0')
  assert.deepEqual(by.get('c0')!.addrs.map((a) => [a.addr.text, a.secondary]), [['192.168.10.1', false], ['192.168.10.2', true], ['fd00:10::1', false], ['fe80::b021:c8ff:fe82:b5ff', false]])
})

test('ip-route.json keeps IPv4 routes only (iproute2 dumps IPv6 too) and normalizes table/type/dst', () => {
  const {value: routes, diagnostics} = parseIpRoutes(read('netns-basic/ip-route.json'), 'ip-route.json', 4)
  assert.deepEqual(diagnostics, [])
  assert.ok(routes.every((r) => r.family === 4))
  assert.equal(routes.length, 23)
  const def = routes.find((r) => r.table === 'main' && r.dst.prefix === 0)!
  assert.equal(def.type, 'unicast')
  assert.equal(def.gateway?.text, '192.168.10.254')
  assert.equal(routes.find((r) => r.dst.text === '10.66.0.0/16')!.type, 'blackhole')
  const host = routes.find((r) => r.type === 'local' && r.dev === 'kube-ipvs0')!
  assert.equal(host.dst.text, '10.96.0.10/32', 'a host dst is a /32')
  assert.equal(host.table, 'local')
  assert.equal(routes.find((r) => r.type === 'throw')!.table, '100')
  const mp = routes.find((r) => r.dst.text === '10.40.0.0/16')!
  assert.deepEqual(mp.nexthops!.map((n) => `${n.gateway?.text} ${n.dev}`), ['192.168.10.100 c0', '10.20.0.2 s0'])
  assert.equal(routes.find((r) => r.dst.text === '10.30.0.0/16' && r.metric === 50)!.dev, 's0')
  assert.equal(parseIpRoutes(read('netns-basic/ip6-route.json'), 'ip6-route.json', 6).value.length, 18)
})

test('numeric table ids 255/254/253 read as local/main/default', () => {
  const {value} = parseIpRoutes('[{"dst":"10.0.0.0/8","dev":"x","table":254},{"type":"local","dst":"10.0.0.1","dev":"x","table":"255"}]', 'f', 4)
  assert.deepEqual(value.map((r) => r.table), ['main', 'local'])
})

test('rules: fwmark/mask, not, goto, suppress_prefixlength, ipproto/dport from the real dump', () => {
  const {value: rules, diagnostics} = parseIpRules(read('netns-basic/ip-rule.json'), 'ip-rule.json', 4)
  assert.deepEqual(diagnostics, [])
  const p = new Map(rules.map((r) => [r.priority, r]))
  assert.deepEqual([p.get(100)!.fwmark, p.get(100)!.fwmask, p.get(100)!.table], [1, 1, '100'])
  assert.equal(p.get(300)!.fwmask, 0xffffffff, 'fwmark without a printed mask compares all bits')
  assert.equal(p.get(300)!.not, true)
  assert.equal(p.get(300)!.dst!.text, '10.0.0.0/8')
  assert.deepEqual([p.get(200)!.src!.text, p.get(200)!.iif], ['192.168.50.0/24', 'c0'])
  assert.equal(p.get(400)!.action, 'prohibit')
  assert.deepEqual([p.get(500)!.action, p.get(500)!.gotoTarget], ['goto', 32766])
  assert.equal(p.get(600)!.suppressPrefixlen, 0)
  assert.deepEqual([p.get(700)!.ipproto, p.get(700)!.dport], [6, [443, 443]])
  assert.equal(p.get(300)!.text, '300: not from all to 10.0.0.0/8 fwmark 0x2 lookup 200')
})

test('rules: port and uid ranges, tos, nop, host selectors, detached devices', () => {
  const {value: rules} = parseIpRules(read('ip-rule-selectors.json'), 'ip-rule.json', 4)
  const p = new Map(rules.map((r) => [r.priority, r]))
  assert.deepEqual(p.get(10)!.sport, [1000, 2000])
  assert.deepEqual(p.get(11)!.uidrange, [100, 200])
  assert.equal(p.get(12)!.tos, 0x10)
  assert.equal(p.get(12)!.text, '12: from all tos 0x10 oif a [detached] lookup 10')
  assert.equal(p.get(14)!.src!.text, '10.0.0.1/32')
  assert.equal(p.get(15)!.action, 'nop')
  assert.equal(p.get(17)!.ipproto, 17)
  assert.equal(p.get(18)!.dst!.prefix, 32)
})

test('malformed input: file-level and entry-level errors are `file: reason` diagnostics; good entries still load', () => {
  const bad = parseIpRoutes('{not json', 'ip-route.json', 4)
  assert.equal(bad.ok, false)
  assert.match(formatDiagnostic(bad.diagnostics[0]), /^ip-route\.json: not JSON: /)
  assert.equal(parseIpRules('{"priority": 1}', 'ip-rule.json', 4).diagnostics[0].message, 'expected a JSON array')
  const mixed = parseIpRoutes('[{"dst": 5}, {"dst": "10.0.0.0/99"}, {"dst": "10.1.0.0/16", "dev": "eth0"}]', 'ip-route.json', 4)
  assert.equal(mixed.ok, true)
  assert.equal(mixed.value.length, 1)
  assert.deepEqual(mixed.diagnostics.map(formatDiagnostic), [
    'ip-route.json: entry 1: dst: Invalid input: expected string, received number',
    'ip-route.json: entry 2: prefix length 99 > 32 in "10.0.0.0/99"',
  ])
  const rule = parseIpRules('[{"priority": "x"}]', 'ip-rule.json', 4)
  assert.match(formatDiagnostic(rule.diagnostics[0]), /^ip-rule\.json: entry 1: priority: /)
})
