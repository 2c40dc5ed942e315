/**
 * Conversations: a reply is addressed from the conntrack entry of the packet it answers (so it comes back from the
 * endpoint DNAT chose) and is reverse-translated without the nat table; later packets reuse the mapping.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Session} from '../../src/engine/trace.ts'
import {toPacketSpec} from '../../src/packet/spec.ts'
import {snapshotOf, matchedRules, table, POD_NODE} from '../helpers/snapshot.ts'

const net = {
  ...POD_NODE,
  'iptables-save.txt': table('nat', {rules: [
    '-A PREROUTING -d 192.0.2.10/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.0.5:80',
    '-A POSTROUTING -s 10.244.0.0/24 -o eth0 -j MASQUERADE',
  ]}) + table('filter', {policies: {FORWARD: 'DROP'}, rules: [
    '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT',
    '-A FORWARD -i cni0 -o eth0 -j ACCEPT',
  ]}),
}

function run(session: Session, input: Record<string, unknown>) {
  const spec = toPacketSpec(input, {router: session.router, flow: (id) => session.flow(id)})
  return {spec, result: session.trace(spec)}
}

test('SYN → SYN-ACK → ACK through DNAT: the reply comes from the endpoint and is translated back', () => {
  const s = new Session(snapshotOf(net))
  const syn = run(s, {id: 'syn', proto: 'tcp', src: '198.51.100.7', sport: 5555, dst: '192.0.2.10', dport: 8080, in: 'eth0'}).result.outcomes[0]
  assert.equal(syn.disposition, 'forward')
  assert.equal(`${syn.final.dst.text}:${syn.final.dport}`, '10.244.0.5:80')

  const reply = run(s, {id: 'synack', reply_of: 'syn'})
  assert.equal(reply.spec.iif, 'cni0')
  assert.equal(reply.spec.src.text, '10.244.0.5')
  assert.equal(reply.spec.sport, 80)
  const r = reply.result.outcomes[0]
  assert.equal(r.disposition, 'forward')
  assert.equal(r.oif, 'eth0')
  // Reverse DNAT: the client sees the address it connected to; MASQUERADE does not apply to a reply.
  assert.equal(`${r.final.src.text}:${r.final.sport}`, '192.0.2.10:8080')
  assert.equal(r.final.dst.text, '198.51.100.7')
  assert.ok(r.steps.some((e) => e.type === 'nat' && e.kind === 'reverse'))
  assert.ok(!r.steps.some((e) => e.type === 'rule' && e.table === 'nat'), 'the nat table is not consulted for a reply')
  assert.deepEqual(matchedRules(r.steps), ['filter/FORWARD#1'])
  assert.equal(r.final.ct?.state, 'ESTABLISHED')

  const ack = run(s, {follow_of: 'syn'}).result.outcomes[0]
  assert.equal(ack.final.ct?.state, 'ESTABLISHED')
  assert.equal(`${ack.final.dst.text}:${ack.final.dport}`, '10.244.0.5:80')
  assert.ok(!ack.steps.some((e) => e.type === 'rule' && e.table === 'nat'))
})

test('an ICMP error about a DNATed connection is RELATED and reaches the client with the service address', () => {
  const s = new Session(snapshotOf(net))
  run(s, {id: 'syn', proto: 'tcp', src: '198.51.100.7', sport: 5555, dst: '192.0.2.10', dport: 8080, in: 'eth0'})
  const err = run(s, {related_of: 'syn'})
  assert.equal(err.spec.proto, 1)
  assert.equal(err.spec.icmpType, 3)
  const o = err.result.outcomes[0]
  assert.equal(o.final.ct?.state, 'RELATED')
  assert.equal(o.final.src.text, '192.0.2.10')
  assert.equal(o.final.dst.text, '198.51.100.7')
  assert.equal(o.disposition, 'forward')
})

test('a reply to a packet that was dropped finds no connection', () => {
  const s = new Session(snapshotOf(net))
  // Not DNATed: FORWARD drops it, so its conntrack entry is never confirmed.
  run(s, {id: 'x', proto: 'tcp', src: '198.51.100.7', sport: 5555, dst: '10.244.0.5', dport: 80, in: 'eth0'})
  assert.throws(() => run(s, {reply_of: 'x'}), /no earlier packet/)
})

test('--ct established skips the nat table and says so', () => {
  const s = new Session(snapshotOf(net))
  const o = run(s, {proto: 'tcp', src: '198.51.100.7', dst: '192.0.2.10', dport: 8080, in: 'eth0', ct: 'established'}).result.outcomes[0]
  assert.equal(o.final.ct?.state, 'ESTABLISHED')
  assert.equal(o.final.dst.text, '192.0.2.10')
  assert.equal(o.disposition, 'local')
})

test('an existing conntrack entry pins the connection to the endpoint it was NATed to', () => {
  const conntrack = 'ipv4     2 tcp      6 431999 ESTABLISHED src=198.51.100.7 dst=192.0.2.10 sport=5555 dport=8080 src=10.244.0.9 dst=198.51.100.7 sport=80 dport=5555 [ASSURED] mark=0 use=1\n'
  const s = new Session(snapshotOf({...net, 'conntrack.txt': conntrack}))
  const o = run(s, {proto: 'tcp', src: '198.51.100.7', sport: 5555, dst: '192.0.2.10', dport: 8080, in: 'eth0', tcp_flags: 'ACK'}).result.outcomes[0]
  // The rules now say 10.244.0.5, the entry says 10.244.0.9: the entry wins.
  assert.equal(o.final.dst.text, '10.244.0.9')
  assert.ok(o.steps.some((e) => e.type === 'note' && /keeps the NAT its first packet got/.test(e.text)))
})

test('MASQUERADE onto a reply tuple another connection holds: the implicit port change is announced', () => {
  const conntrack = 'ipv4     2 udp      17 29 src=10.244.0.8 dst=203.0.113.53 sport=40000 dport=53 src=203.0.113.53 dst=192.0.2.10 sport=53 dport=40000 mark=0 use=1\n'
  const s = new Session(snapshotOf({...net, 'conntrack.txt': conntrack}))
  const o = run(s, {proto: 'udp', src: '10.244.0.7', sport: 40000, dst: '203.0.113.53', dport: 53, in: 'cni0'}).result.outcomes[0]
  assert.equal(o.final.src.text, '192.0.2.10')
  assert.ok(o.steps.some((e) => e.type === 'note' && /already used by conntrack entry conntrack.txt:1/.test(e.text)))
  // Without the other entry there is nothing to announce.
  const clean = new Session(snapshotOf(net))
  const o2 = run(clean, {proto: 'udp', src: '10.244.0.7', sport: 40000, dst: '203.0.113.53', dport: 53, in: 'cni0'}).result.outcomes[0]
  assert.ok(!o2.steps.some((e) => e.type === 'note' && /already used/.test(e.text)))
})

test('ICMP echo: conntrack keys on the id; a snapshot entry makes the reply ESTABLISHED, and reply_of answers with type 0', () => {
  const conntrack = 'ipv4     2 icmp     1 29 src=198.51.100.7 dst=192.0.2.10 type=8 code=0 id=4242 src=192.0.2.10 dst=198.51.100.7 type=0 code=0 id=4242 mark=0 use=1\n'
  const s = new Session(snapshotOf({...net, 'conntrack.txt': conntrack}))
  const same = run(s, {proto: 'icmp', src: '198.51.100.7', dst: '192.0.2.10', icmp_type: 8, icmp_id: 4242, in: 'eth0'}).result.outcomes[0]
  assert.equal(same.final.ct?.state, 'ESTABLISHED')
  const other = run(s, {proto: 'icmp', src: '198.51.100.7', dst: '192.0.2.10', icmp_type: 8, icmp_id: 7, in: 'eth0'}).result.outcomes[0]
  assert.equal(other.final.ct?.state, 'NEW')
  run(s, {id: 'ping', proto: 'icmp', src: '198.51.100.7', dst: '192.0.2.10', icmp_type: 8, icmp_id: 9, in: 'eth0'})
  const pong = run(s, {reply_of: 'ping', local: true})
  assert.equal(pong.spec.icmpType, 0)
  assert.equal(pong.spec.icmpId, 9)
  assert.equal(pong.result.outcomes[0].final.ct?.state, 'ESTABLISHED')
  assert.equal(pong.result.outcomes[0].final.ct?.dir, 'REPLY')
})
