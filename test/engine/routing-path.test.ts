/** How marks and NAT steer routing along the path (netfilter-path.md §1.3, §8.1). */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Session} from '../../src/engine/trace.ts'
import {snapshotOf, addrJson, routeJson, trace, table} from '../helpers/snapshot.ts'

const net = {
  'ip-addr.json': addrJson({lo: ['127.0.0.1/8'], wan1: ['198.51.100.2/24'], wan2: ['203.0.113.2/24'], lan: ['10.0.0.1/24']}),
  'ip-route.json': routeJson([
    'default via 198.51.100.1 dev wan1',
    '198.51.100.0/24 dev wan1 scope link',
    '203.0.113.0/24 dev wan2 scope link',
    '10.0.0.0/24 dev lan scope link',
    'default via 203.0.113.1 dev wan2 table 102',
    'local 198.51.100.2 dev wan1 table local',
    'local 203.0.113.2 dev wan2 table local',
    'local 10.0.0.1 dev lan table local',
    'local 127.0.0.0/8 dev lo table local',
  ]),
  'ip-rule.json': [
    {priority: 0, src: 'all', table: 'local'},
    {priority: 100, src: 'all', fwmark: '0x2', fwmask: '0xff', table: '102'},
    {priority: 32766, src: 'all', table: 'main'},
    {priority: 32767, src: 'all', table: 'default'},
  ],
  'sysctl.txt': 'net.ipv4.ip_forward = 1\n',
}

const rules = table('mangle', {rules: [
  '-A PREROUTING -i lan -s 10.0.0.128/25 -j MARK --set-xmark 0x2/0xff',
  '-A OUTPUT -p udp --dport 53 -j MARK --set-xmark 0x2/0xff',
]}) + table('nat', {rules: ['-A POSTROUTING -o wan2 -j MASQUERADE']})

test('a mark set in mangle PREROUTING selects the fwmark routing table', () => {
  const s = new Session(snapshotOf({...net, 'iptables-save.txt': rules}))
  const o = trace(s, 'tcp 10.0.0.200:40000 > 192.0.2.50:443 in lan').outcomes[0]
  assert.equal(o.disposition, 'forward')
  assert.equal(o.oif, 'wan2')
  // MASQUERADE takes wan2's address.
  assert.equal(o.final.src.text, '203.0.113.2')
  const o2 = trace(s, 'tcp 10.0.0.20:40000 > 192.0.2.50:443 in lan').outcomes[0]
  assert.equal(o2.oif, 'wan1')
  assert.equal(o2.final.src.text, '10.0.0.20')
})

test('a mark set in mangle OUTPUT re-routes a local packet', () => {
  const s = new Session(snapshotOf({...net, 'iptables-save.txt': rules}))
  const o = trace(s, 'udp 198.51.100.2:5353 > 192.0.2.53:53 local').outcomes[0]
  const routes = o.steps.filter((e) => e.type === 'route')
  assert.deepEqual(routes.map((e) => e.type === 'route' && e.phase), ['output', 'reroute'])
  assert.equal(o.disposition, 'output')
  assert.equal(o.oif, 'wan2')
})

test('a local packet to a local address loops back through lo into INPUT', () => {
  const s = new Session(snapshotOf({...net, 'iptables-save.txt': rules}))
  const o = trace(s, 'tcp 127.0.0.1:40000 > 10.0.0.1:22 local').outcomes[0]
  assert.equal(o.disposition, 'local')
  const hooks = o.steps.filter((e) => e.type === 'hook').map((e) => e.type === 'hook' && e.hook)
  assert.deepEqual(hooks, ['OUTPUT', 'POSTROUTING', 'PREROUTING', 'INPUT'])
})
