/**
 * The NAT harness's own logic, without root: conntrack events and trace dumps (lines captured on Linux 6.18,
 * conntrack-tools 1.4.7, nft 1.0.6), the end probe's ct facts, range-aware NAT comparison, generator determinism.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {kernelTrace, packetEndpoints, parseCtEvent, parseTraceLine, type KernelResult} from './oracle.ts'
import {diffNat} from './nat-compare.ts'
import {generateNatCase} from './nat-generator.ts'
import {parseAddr} from '../../src/net/addr.ts'
import {CT_STATUS, type CtView, type PacketState} from '../../src/engine/state.ts'
import type {Outcome} from '../../src/engine/api.ts'

test('conntrack NEW event: original then reply tuple; ICMP has no ports', () => {
  const e = parseCtEvent('    [NEW] tcp      6 120 SYN_SENT src=10.98.0.7 dst=10.97.0.9 sport=40000 dport=80 [UNREPLIED] src=10.97.0.5 dst=10.99.2.1 sport=8080 dport=61085')!
  assert.deepEqual([e.proto, e.orig, e.reply], ['tcp', {src: '10.98.0.7', dst: '10.97.0.9', sport: 40000, dport: 80}, {src: '10.97.0.5', dst: '10.99.2.1', sport: 8080, dport: 61085}])
  const i = parseCtEvent('    [NEW] icmp     1 30 src=10.98.2.54 dst=10.97.0.125 type=8 code=0 id=524 [UNREPLIED] src=10.97.0.125 dst=10.98.2.54 type=0 code=0 id=524')!
  assert.deepEqual(i.reply, {src: '10.97.0.125', dst: '10.98.2.54'})
  assert.equal(parseCtEvent(' [DESTROY] tcp 6 src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1'), undefined)
})

test('end probe: final addresses after NAT and the ct facts whose rules matched', () => {
  const lines = `
    trace id 7a inet nfk_trace pre packet: iif "nc0" ip saddr 10.98.0.7 ip daddr 10.97.0.9 ip id 2 ip protocol tcp ip length 40 tcp sport 40000 tcp dport 80 tcp flags == syn
    trace id 7a ip nat PREROUTING rule tcp dport 80 counter packets 0 bytes 0 dnat to 10.97.0.5:8080 # handle 5 (verdict accept)
    trace id 7a inet nfk_trace post_end packet: iif "nc0" oif "ns0" ip saddr 10.99.2.1 ip daddr 10.97.0.5 ip id 2 ip protocol tcp ip length 40 tcp sport 61085 tcp dport 8080 tcp flags == syn
    trace id 7a inet nfk_trace post_end rule ct state new # handle 16 (verdict continue)
    trace id 7a inet nfk_trace post_end rule ct status dnat # handle 22 (verdict continue)
    trace id 7a inet nfk_trace post_end rule ct status snat # handle 23 (verdict continue)
    trace id 7a inet nfk_trace post_end policy accept`.trim().split('\n').map((l) => parseTraceLine(l.trim())!)
  const k = kernelTrace('p', false, lines, new Map([['ip nat PREROUTING 5', 1]]))
  assert.deepEqual(k.final, {src: '10.99.2.1', dst: '10.97.0.5', sport: 61085, dport: 8080})
  assert.deepEqual(k.ct, {state: 'NEW', reply: false, dnat: true, snat: true})
  assert.equal(k.events[0].verdict, 'ACCEPT')
  assert.deepEqual(packetEndpoints('iif "nc0" ip6 saddr fd98::0:2 ip6 daddr fd97::9 udp sport 1 udp dport 53'), {src: 'fd98::2', dst: 'fd97::9', sport: 1, dport: 53})
})

function outcome(final: Partial<PacketState>, ct: Partial<CtView>, steps: unknown[] = []): Outcome {
  const a = (s: string) => parseAddr(s)
  return {
    disposition: 'forward', oif: 'ns0', num: 1n, den: 1n, probability: 1, choices: [], steps,
    final: {src: a('10.99.2.1'), dst: a('10.97.0.5'), sport: 40000, dport: 8080, mark: 0, ct: {state: 'NEW', dir: 'ORIGINAL', status: CT_STATUS.DST_NAT | CT_STATUS.SRC_NAT, orig: {proto: 6, src: a('10.98.0.7'), dst: a('10.97.0.9'), sport: 40000, dport: 80}, reply: {proto: 6, src: a('10.97.0.5'), dst: a('10.99.2.1'), sport: 8080, dport: 40000}, ...ct}, ...final} as PacketState,
  } as unknown as Outcome
}

const KERNEL = {
  packetId: 'p', events: [], disposition: 'forward', oif: 'ns0', finalMark: 0, raw: [], vanished: false, length: 40,
  final: {src: '10.99.2.1', dst: '10.97.0.5', sport: 61085, dport: 8080},
  ct: {state: 'NEW', reply: false, dnat: true, snat: true},
  entry: {proto: 'tcp', raw: '', orig: {src: '10.98.0.7', dst: '10.97.0.9', sport: 40000, dport: 80}, reply: {src: '10.97.0.5', dst: '10.99.2.1', sport: 8080, dport: 61085}},
} as KernelResult

test('NAT diff: a random port outside any range the engine reported is a difference, inside its range a note', () => {
  const plain = diffNat(KERNEL, outcome({}, {}), 6, true)
  assert.deepEqual(plain.diffs, ['final packet sport: kernel 61085 / engine 40000', 'conntrack reply tuple dport: kernel 61085 / engine 40000'])
  const ranged = diffNat(KERNEL, outcome({}, {}, [{type: 'nat', kind: 'masquerade', hook: 'POSTROUTING', portRange: [1024, 65535]}]), 6, true)
  assert.deepEqual(ranged.diffs, [])
  assert.equal(ranged.notes.length, 2)
})

test('NAT diff: status bits, state and a missing kernel entry are compared', () => {
  const k = {...KERNEL, final: {...KERNEL.final, sport: 40000}, entry: undefined, ct: {state: 'NEW', reply: false, dnat: false, snat: true}} as KernelResult
  const d = diffNat(k, outcome({}, {}), 6, true).diffs
  assert.ok(d.includes('ct status DST_NAT: kernel false / engine true'), d.join('\n'))
  assert.ok(d.some((x) => x.startsWith('kernel: no conntrack NEW event')), d.join('\n'))
})

test('NAT generator: same seed same case; ports never out of range; the three shapes load what they promise', () => {
  assert.deepEqual(generateNatCase('nat', 5), generateNatCase('nat', 5))
  for (let seed = 1; seed <= 100; seed++) {
    for (const shape of ['nat', 'kube', 'docker'] as const) {
      const c = generateNatCase(shape, seed)
      for (const p of c.packets) if (p.dport !== undefined) assert.ok(p.dport > 0 && p.dport < 65536, `${shape}:${seed} ${p.id} dport ${p.dport}`)
      for (const l of c.iptables.split('\n')) {
        if (/^-A (OUTPUT|POSTROUTING) /.test(l)) assert.doesNotMatch(l, / -i /, `${shape}:${seed}: ${l}`)
        if (/^-A (PREROUTING|INPUT) /.test(l)) assert.doesNotMatch(l, / -o /, `${shape}:${seed}: ${l}`)
      }
    }
  }
  assert.match(generateNatCase('kube', 1).iptables, /-j MASQUERADE --random-fully/)
  assert.match(generateNatCase('docker', 1).iptables, /-A OUTPUT ! -d (127\.0\.0\.0\/8|::1\/128) -m addrtype --dst-type LOCAL -j DOCKER/)
})
