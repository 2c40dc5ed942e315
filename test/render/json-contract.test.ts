/** The `--json` contract (schema nfstep.trace/1): the fields scripts rely on, with their types and meanings. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Session} from '../../src/engine/trace.ts'
import {traceJson} from '../../src/render/json.ts'
import {snapshotOf, trace, table, POD_NODE} from '../helpers/snapshot.ts'

const snapshot = () => snapshotOf({
  ...POD_NODE,
  'iptables-save.txt': table('nat', {chains: ['SVC'], rules: [
    '-A PREROUTING -d 192.0.2.10/32 -p tcp -m tcp --dport 80 -j SVC',
    '-A SVC -p tcp -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.244.0.5:8080',
    '-A SVC -p tcp -j DNAT --to-destination 10.244.0.6:8080',
    '-A POSTROUTING -o cni0 -j MASQUERADE --random-fully',
  ]}) + table('filter', {policies: {FORWARD: 'DROP'}, rules: [
    '-A FORWARD -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset',
    '-A FORWARD -m conntrack --ctstate DNAT -j MARK --set-xmark 0x10/0x10',
    '-A FORWARD -m mark --mark 0x10/0x10 -j ACCEPT',
  ]}),
})

test('one object per packet with schema, packet, warnings and outcomes whose probabilities sum to 1', () => {
  const s = new Session(snapshot())
  const j = traceJson(trace(s, 'tcp 198.51.100.7:5555 > 192.0.2.10:80 in eth0'))
  assert.equal(j.schema, 'nfstep.trace/1')
  assert.deepEqual(Object.keys(j).sort(), ['id', 'outcomes', 'packet', 'schema', 'warnings'])
  assert.equal(j.packet.src, '198.51.100.7')
  assert.equal(j.packet.dport, 80)
  assert.equal(j.packet.in, 'eth0')
  assert.ok(Array.isArray(j.warnings))
  assert.equal(j.outcomes.length, 2)
  assert.equal(j.outcomes.reduce((a, o) => a + o.probability, 0), 1)
  assert.deepEqual(j.outcomes.map((o) => o.probability_exact), ['1/2', '1/2'])
  for (const o of j.outcomes) {
    assert.equal(o.disposition, 'forward')
    assert.equal(o.oif, 'cni0')
    assert.equal(o.final.mark, '0x10')
    // MASQUERADE --random-fully: the source port is not invented.
    assert.equal(o.final.sport, null)
    assert.deepEqual(o.final.sport_range, [1024, 65535])
    assert.equal(o.final.src, '10.244.0.1')
    assert.deepEqual(o.nat.map((n) => n?.kind), ['dnat', 'masquerade'])
  }
  assert.deepEqual(j.outcomes.map((o) => `${o.final.dst}:${o.final.dport}`), ['10.244.0.5:8080', '10.244.0.6:8080'])
})

test('rule steps carry position, text, verdict, per-match results with reasons, and mark effects in hex', () => {
  const s = new Session(snapshot())
  const o = traceJson(trace(s, 'tcp 198.51.100.7:5555 > 192.0.2.10:80 in eth0')).outcomes[0]
  const rules = o.steps.filter((x) => x.type === 'rule') as Record<string, any>[]
  const reject = rules.find((r) => r.chain === 'FORWARD' && r.index === 1)!
  assert.equal(reject.matched, false)
  assert.equal(reject.verdict, 'CONTINUE')
  assert.equal(reject.text, '-A FORWARD -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset')
  assert.deepEqual(reject.matches.map((m: any) => m.result), [true, false])
  assert.match(reject.matches[1].reason, /8080/)
  const mark = rules.find((r) => r.chain === 'FORWARD' && r.index === 2)!
  assert.equal(mark.matched, true)
  assert.equal(mark.effects[0].kind, 'mark')
  assert.equal(mark.effects[0].before, '0x0')
  assert.equal(mark.effects[0].after, '0x10')
  const jump = rules.find((r) => r.chain === 'PREROUTING')!
  assert.equal(jump.verdict, 'JUMP')
  assert.equal(jump.target, 'SVC')
  assert.equal(jump.family, 'ipv4')
  assert.equal(jump.hook, 'PREROUTING')
  assert.equal(jump.table, 'nat')
  assert.ok(o.steps.some((x) => x.type === 'route' && x.result === 'unicast' && x.dev === 'cni0'))
  assert.ok(o.steps.some((x) => x.type === 'branch' && x.probability === '1073741824/2147483648'))
})

test('a rejected packet: disposition reject, final is the packet as it was when rejected, policy steps appear', () => {
  const s = new Session(snapshot())
  const o = traceJson(trace(s, 'tcp 198.51.100.7:5555 > 10.244.0.9:22 in eth0')).outcomes[0]
  assert.equal(o.disposition, 'reject')
  assert.equal(o.oif, null)
  assert.equal(o.final.dst, '10.244.0.9')
  const dropped = traceJson(trace(s, 'udp 198.51.100.7:5555 > 10.244.0.9:53 in eth0')).outcomes[0]
  assert.equal(dropped.disposition, 'drop')
  assert.ok(dropped.steps.some((x) => x.type === 'policy' && x.chain === 'FORWARD' && x.verdict === 'DROP'))
})

test('an unmodelled match and target are reported with the assumption made, not silently', () => {
  const s = new Session(snapshotOf({
    'iptables-save.txt': '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n-A OUTPUT -m nfacct --nfacct-name x -j AUDIT --type accept\n-A OUTPUT -p tcp -j ACCEPT\nCOMMIT\n',
  }))
  const o = traceJson(trace(s, 'tcp 10.0.0.1:1234 > 10.0.0.2:80 local')).outcomes[0]
  const rule = o.steps.find((x) => x.type === 'rule' && x.chain === 'OUTPUT' && x.index === 1) as Record<string, any>
  assert.equal(rule.matched, true)
  assert.equal(rule.matches[0].unmodelled, true)
  assert.match(rule.matches[0].assumed, /not modelled/)
  assert.equal(rule.verdict, 'CONTINUE')
  assert.equal(rule.effects[0].kind, 'note')
  assert.equal(rule.effects[0].unmodelled, true)
  assert.match(rule.effects[0].text, /AUDIT.*not modelled.*continue/)
})
