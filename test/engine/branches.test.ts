/** Random branches (xt_statistic.c): exact thresholds, one outcome per path, probabilities summing to 1. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Session} from '../../src/engine/trace.ts'
import {snapshotOf, trace, matchedRules, table, POD_NODE} from '../helpers/snapshot.ts'

const kube = table('nat', {chains: ['KUBE-SVC-X', 'KUBE-SEP-A', 'KUBE-SEP-B', 'KUBE-SEP-C'], rules: [
  '-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-X',
  '-A KUBE-SVC-X -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-A',
  '-A KUBE-SVC-X -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-B',
  '-A KUBE-SVC-X -j KUBE-SEP-C',
  '-A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.244.0.5:8080',
  '-A KUBE-SEP-B -p tcp -m tcp -j DNAT --to-destination 10.244.0.6:8080',
  '-A KUBE-SEP-C -p tcp -m tcp -j DNAT --to-destination 10.244.0.7:8080',
]})

/** mangle PREROUTING marks 0x1 on the packets `statistic --mode nth` picks. */
const nth = (every: number, packet: number) =>
  table('mangle', {rules: [`-A PREROUTING -m statistic --mode nth --every ${every} --packet ${packet} -j MARK --set-xmark 0x1/0xffffffff`]})

test('statistic random: one outcome per endpoint with the kernel\'s integer thresholds', () => {
  const s = new Session(snapshotOf({...POD_NODE, 'iptables-save.txt': kube}))
  const r = trace(s, 'tcp 192.0.2.7:40000 > 10.96.0.10:80 in eth0')
  assert.equal(r.outcomes.length, 3)
  assert.deepEqual(r.outcomes.map((o) => o.final.dst.text), ['10.244.0.5', '10.244.0.6', '10.244.0.7'])
  assert.deepEqual(r.outcomes.map((o) => o.final.dport), [8080, 8080, 8080])
  // lround(0.33333333349 * 2^31) = 715827883; second rule 2^30 of 2^31.
  const [a, b, c] = r.outcomes
  assert.equal(`${a.num}/${a.den}`, '715827883/2147483648')
  // (1 - 715827883/2^31) × 1/2 for each of the other two.
  assert.equal(`${b.num}/${b.den}`, '1431655765/4294967296')
  assert.equal(`${c.num}/${c.den}`, '1431655765/4294967296')
  const sum = r.outcomes.reduce((acc, o) => acc + Number(o.num) / Number(o.den), 0)
  assert.ok(Math.abs(sum - 1) < 1e-12)
  assert.ok(r.outcomes.every((o) => o.disposition === 'forward' && o.oif === 'cni0'))
})

test('--choose follows one path only', () => {
  const s = new Session(snapshotOf({...POD_NODE, 'iptables-save.txt': kube}))
  const r = s.trace(trace(s, 'tcp 192.0.2.7:40000 > 10.96.0.10:80 in eth0').spec, {choose: 2})
  assert.equal(r.outcomes.length, 1)
  assert.equal(r.outcomes[0].final.dst.text, '10.244.0.7')
  assert.deepEqual(matchedRules(r.outcomes[0].steps).slice(0, 3), ['nat/PREROUTING#1', 'nat/KUBE-SVC-X#3', 'nat/KUBE-SEP-C#1'])
})

test('statistic nth counters advance across the packets of one run', () => {
  const s = new Session(snapshotOf({...POD_NODE, 'iptables-save.txt': nth(3, 1)}))
  const marks = [0, 1, 2, 3, 4, 5].map(() => trace(s, 'udp 192.0.2.7:5000 > 192.0.2.10:53 in eth0').outcomes[0].final.mark)
  // --packet 1: the 2nd packet seen matches, then every 3rd.
  assert.deepEqual(marks, [0, 1, 0, 0, 1, 0])
})

test('the first nth decision of a session says its counter value is assumed; later ones do not', () => {
  const s = new Session(snapshotOf({...POD_NODE, 'iptables-save.txt': nth(2, 0)}))
  const assumed = () => {
    const o = trace(s, 'udp 192.0.2.7:5000 > 192.0.2.10:53 in eth0').outcomes[0]
    const rule = o.steps.find((e) => e.type === 'rule')
    return rule?.type === 'rule' ? rule.matches.find((m) => m.match.kind.name === 'statistic')?.assumed : undefined
  }
  assert.match(assumed() ?? '', /not in the snapshot/)
  assert.equal(assumed(), undefined)
})
