/**
 * Chain traversal semantics the kernel-differential suite also checks, pinned here as small readable cases:
 * jump/goto/RETURN stack (ip_tables.c ipt_do_table), ACCEPT ending only its own table, policies.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Session} from '../../src/engine/trace.ts'
import {snapshotOf, addrJson, routeJson, trace, matchedRules, table} from '../helpers/snapshot.ts'

const net = {
  'ip-addr.json': addrJson({lo: ['127.0.0.1/8'], eth0: ['192.0.2.10/24'], eth1: ['10.1.0.1/24']}),
  'ip-route.json': routeJson([
    'default via 192.0.2.1 dev eth0',
    '192.0.2.0/24 dev eth0 scope link',
    '10.1.0.0/24 dev eth1 scope link',
    'local 192.0.2.10 dev eth0 table local',
    'local 10.1.0.1 dev eth1 table local',
    'local 127.0.0.0/8 dev lo table local',
  ]),
  'sysctl.txt': 'net.ipv4.ip_forward = 1\n',
}

function session(rules: string): Session {
  return new Session(snapshotOf({...net, 'iptables-save.txt': rules}))
}

test('a goto target that runs off its end returns to the last jump, not to the goto', () => {
  const s = session(table('filter', {chains: ['A', 'B'], rules: [
    '-A INPUT -j A',
    '-A INPUT -p tcp -j DROP',
    '-A A -g B',
    '-A A -j ACCEPT',
    '-A B -p udp -j ACCEPT',
  ]}))
  const r = trace(s, 'tcp 192.0.2.7:1234 > 192.0.2.10:22 in eth0')
  assert.equal(r.outcomes.length, 1)
  // A → goto B → B ends → back to INPUT after the jump to A (rule 2 drops); A's rule 2 is never reached.
  assert.deepEqual(matchedRules(r.outcomes[0].steps), ['filter/INPUT#1', 'filter/A#1', 'filter/INPUT#2'])
  assert.equal(r.outcomes[0].disposition, 'drop')
})

test('a goto from the built-in chain falls to the policy when its target ends', () => {
  const s = session(table('filter', {policies: {INPUT: 'DROP'}, chains: ['B'], rules: [
    '-A INPUT -g B',
    '-A INPUT -j ACCEPT',
    '-A B -p udp -j ACCEPT',
  ]}))
  const r = trace(s, 'tcp 192.0.2.7:1234 > 192.0.2.10:22 in eth0')
  const o = r.outcomes[0]
  assert.equal(o.disposition, 'drop')
  const policy = o.steps.find((e) => e.type === 'policy')
  assert.ok(policy && policy.type === 'policy' && policy.chain === 'INPUT' && policy.verdict === 'DROP')
})

test('RETURN in a user chain resumes after the jump; RETURN in a built-in chain applies the policy', () => {
  const s = session(table('filter', {policies: {INPUT: 'DROP'}, chains: ['A'], rules: [
    '-A INPUT -j A',
    '-A INPUT -p tcp --dport 22 -j RETURN',
    '-A INPUT -j ACCEPT',
    '-A A -j RETURN',
    '-A A -j DROP',
  ]}))
  const o = trace(s, 'tcp 192.0.2.7:1234 > 192.0.2.10:22 in eth0').outcomes[0]
  assert.deepEqual(matchedRules(o.steps), ['filter/INPUT#1', 'filter/A#1', 'filter/INPUT#2'])
  assert.equal(o.disposition, 'drop')
  const o2 = trace(s, 'tcp 192.0.2.7:1234 > 192.0.2.10:80 in eth0').outcomes[0]
  assert.equal(o2.disposition, 'local')
})

test('ACCEPT ends only its own table: filter still runs after mangle accepted', () => {
  const s = session(
    table('mangle', {rules: ['-A INPUT -j ACCEPT']}) +
    table('filter', {rules: ['-A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset']}),
  )
  const o = trace(s, 'tcp 192.0.2.7:1234 > 192.0.2.10:22 in eth0').outcomes[0]
  assert.deepEqual(matchedRules(o.steps), ['mangle/INPUT#1', 'filter/INPUT#1'])
  assert.equal(o.disposition, 'reject')
})

test('a mark set in mangle PREROUTING is seen by filter, and the final mark is reported', () => {
  const s = session(
    table('mangle', {rules: ['-A PREROUTING -i eth0 -j MARK --set-xmark 0x4000/0x4000']}) +
    table('filter', {policies: {FORWARD: 'DROP'}, rules: ['-A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT']}),
  )
  const o = trace(s, 'tcp 192.0.2.7:1234 > 10.1.0.5:80 in eth0').outcomes[0]
  assert.equal(o.disposition, 'forward')
  assert.equal(o.oif, 'eth1')
  assert.equal(o.final.mark, 0x4000)
  const o2 = trace(s, 'tcp 10.1.0.5:1234 > 192.0.2.7:80 in eth1').outcomes[0]
  assert.equal(o2.disposition, 'drop')
})

test('forwarding is refused when ip_forward is 0', () => {
  const s = new Session(snapshotOf({...net, 'sysctl.txt': 'net.ipv4.ip_forward = 0\n', 'iptables-save.txt': table('filter')}))
  const o = trace(s, 'tcp 192.0.2.7:1234 > 10.1.0.5:80 in eth0').outcomes[0]
  assert.equal(o.disposition, 'drop')
  assert.match((o.steps.at(-1) as {text: string}).text, /ip_forward = 0/)
})

test('an input interface the snapshot does not have is warned about', () => {
  const s = session(table('filter'))
  assert.match(trace(s, 'tcp 192.0.2.7:1234 > 192.0.2.10:22 in eth9').warnings.join('\n'), /eth9 is not in the snapshot/)
  assert.deepEqual(trace(s, 'tcp 192.0.2.7:1234 > 192.0.2.10:22 in eth0').warnings, [])
})

test('without a nat table there is no NAT core: no null binding is reported', () => {
  const s = session(table('filter'))
  const o = trace(s, 'tcp 127.0.0.1:40000 > 127.0.0.1:22 local').outcomes[0]
  assert.ok(!o.steps.some((e) => e.type === 'nat'))
  // A looped-back packet's entry is confirmed once, at POSTROUTING.
  assert.equal(o.steps.filter((e) => e.type === 'conntrack' && e.action === 'confirm').length, 1)
})
