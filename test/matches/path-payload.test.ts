import {test} from 'node:test'
import assert from 'node:assert/strict'
import {devgroup} from '../../src/matches/devgroup.ts'
import {physdev} from '../../src/matches/physdev.ts'
import {rpfilter} from '../../src/matches/rpfilter.ts'
import {string} from '../../src/matches/string.ts'
import {u32} from '../../src/matches/u32.ts'
import type {RouteQuery} from '../../src/engine/state.ts'
import {ctx, fakeRouter, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'

test('devgroup: ((group ^ G) & M) == 0 per device; unknown groups are assumed 0', () => {
  const router = fakeRouter([], {deviceGroup: (d) => (d === 'eth0' ? 0x15 : d === 'eth1' ? 3 : undefined)})
  const m = matcher(devgroup, ['--src-group 0x5/0xf', '! --dst-group 0x3'])
  assert.equal(m(ctx(packet({iif: 'eth0', oif: 'eth2'}), {router, hook: 'FORWARD'})).ok, true)
  const r = m(ctx(packet({iif: 'eth0', oif: 'eth1'}), {router, hook: 'FORWARD'}))
  assert.equal(r.ok, false)
  assert.match(matcher(devgroup, ['--src-group 0'])(ctx(packet({iif: 'eth9'}), {router})).assumed!, /group of eth9 unknown/)
})

test('physdev: a non-bridged packet fails every positive test, so only negated ones match', () => {
  const plain = ctx(packet({}), {hook: 'FORWARD'})
  assert.equal(matcher(physdev, ['--physdev-is-bridged'])(plain).ok, false)
  assert.equal(matcher(physdev, ['! --physdev-is-in'])(plain).ok, true)
  assert.equal(matcher(physdev, ['--physdev-in eth0'])(plain).ok, false)
  const r = matcher(physdev, ['! --physdev-in eth0'])(plain)
  assert.equal(r.ok, true)
  assert.match(r.assumed!, /not bridged: no assume\.physdevIn\/physdevOut/)
  const bridged = ctx(packet({assume: {physdevIn: 'veth1', physdevOut: 'veth2'}}), {hook: 'FORWARD'})
  assert.equal(matcher(physdev, ['--physdev-is-bridged', '--physdev-in veth+', '! --physdev-out veth1'])(bridged).ok, true)
  assert.equal(matcher(physdev, ['--physdev-out veth1'])(bridged).ok, false)
  // Bridged in PREROUTING: no out port yet, so the out name test is skipped and is-bridged is false.
  const pre = ctx(packet({assume: {physdevIn: 'veth1'}}), {hook: 'PREROUTING'})
  assert.equal(matcher(physdev, ['--physdev-out veth9'])(pre).ok, true)
  assert.equal(matcher(physdev, ['--physdev-is-bridged'])(pre).ok, false)
})

test('rpfilter: reverse lookup to the source as a local lookup; strict needs the input device', () => {
  const queries: RouteQuery[] = []
  const router = fakeRouter([], {
    lookup: (q) => {
      queries.push(q)
      return q.dst.text.startsWith('10.')
        ? {type: 'unicast', dev: 'eth0', rules: [], explanation: ''}
        : q.dst.text === '192.168.0.1' ? {type: 'local', dev: 'eth1', rules: [], explanation: ''} : {type: 'unreachable', rules: [], explanation: ''}
    },
  })
  const p = (f: Parameters<typeof packet>[0]) => ctx(packet(f), {router, hook: 'PREROUTING', table: 'raw'})
  const strict = matcher(rpfilter, [], {table: 'raw'})
  assert.equal(strict(p({src: '10.1.1.1', dst: '10.9.9.9', iif: 'eth0', mark: 7})).ok, true)
  assert.equal(queries[0]!.dst.text, '10.1.1.1')
  assert.equal(queries[0]!.src!.text, '10.9.9.9')
  assert.equal(queries[0]!.iif, undefined)
  assert.equal(queries[0]!.mark, 0, 'the mark is used only with --validmark')
  assert.equal(strict(p({src: '10.1.1.1', iif: 'eth1'})).ok, false)
  assert.equal(matcher(rpfilter, ['--loose'], {table: 'raw'})(p({src: '10.1.1.1', iif: 'eth1'})).ok, true)
  assert.equal(matcher(rpfilter, ['--validmark'], {table: 'raw'})(p({src: '10.1.1.1', iif: 'eth0', mark: 7})).ok, true)
  assert.equal(queries.at(-1)!.mark, 7)
  assert.equal(strict(p({src: '172.16.0.1', iif: 'eth0'})).ok, false)
  assert.equal(matcher(rpfilter, ['--invert'], {table: 'raw'})(p({src: '172.16.0.1', iif: 'eth0'})).ok, true)
  assert.equal(strict(p({src: '192.168.0.1', iif: 'eth1'})).ok, false)
  assert.equal(matcher(rpfilter, ['--accept-local'], {table: 'raw'})(p({src: '192.168.0.1', iif: 'eth1'})).ok, true)
  assert.equal(strict(p({src: '0.0.0.0', dst: '255.255.255.255', iif: 'eth3', proto: 'udp'})).ok, true)
  assert.equal(strict(p({src: '172.16.0.1', iif: 'lo'})).ok, true)
  assert.throws(() => matcher(rpfilter, [], {table: 'filter'}), /raw and mangle/)
})

const hexOf = (s: string) => Buffer.from(s).toString('hex')

test('string: searched from the network header within [from, to); without payload assumed absent', () => {
  const get = {name: 'string', values: ['GET /'], negated: false, text: '--string "GET /"'}
  const m = matcher(string, ['--algo bm', get])
  const withPayload = ctx(packet({assume: {payloadHex: hexOf('GET /index.html')}}))
  const r = m(withPayload)
  assert.equal(r.ok, true)
  assert.match(r.why, /found at offset 40 \(payload byte 0\)/)
  const none = m(ctx(packet({})))
  assert.equal(none.ok, false)
  assert.match(none.assumed!, /set assume\.payloadHex/)
  assert.equal(matcher(string, ['--algo bm', {...get, negated: true}])(ctx(packet({}))).ok, true)
  assert.equal(matcher(string, ['--algo bm', '--to 44', get])(withPayload).ok, false, 'the pattern must end before --to')
  assert.equal(matcher(string, ['--algo bm', '--to 45', get])(withPayload).ok, true)
  assert.equal(matcher(string, ['--algo kmp', '--hex-string |474554|', '--icase'])(ctx(packet({assume: {payloadHex: hexOf('get')}}))).ok, true)
})

test('u32: reads 4 bytes big-endian with &, >>, @ over rebuilt headers; past the end fails', () => {
  // IPv4 protocol byte (offset 9) via the word at 6: "6&0xFF=6" is tcp.
  assert.equal(matcher(u32, ['--u32 0x6&0xff=0x6'])(ctx(packet({proto: 'tcp'}))).ok, true)
  assert.equal(matcher(u32, ['! --u32 0x6&0xff=0x6'])(ctx(packet({proto: 'tcp'}))).ok, false)
  // TCP destination port through the IHL: 0>>22&0x3C@0&0xFFFF=80.
  const dport = matcher(u32, ['--u32 0x0>>0x16&0x3c@0x0&0xffff=0x50'])
  assert.equal(dport(ctx(packet({dport: 80}))).ok, true)
  assert.equal(dport(ctx(packet({dport: 81}))).ok, false)
  // The first payload word: unknown without payload (assumed no match), known with it.
  const get = matcher(u32, ['--u32 0x0>>0x16&0x3c@0xc>>0x1a&0x3c@0x0=0x47455420'])
  const unknown = get(ctx(packet({length: 100})))
  assert.equal(unknown.ok, false)
  assert.match(unknown.assumed!, /payload, which is unknown/)
  assert.equal(get(ctx(packet({length: 100, assume: {payloadHex: hexOf('GET /')}}))).ok, true)
  assert.match(matcher(u32, ['--u32 0x1000=0x0:0xffffffff'])(ctx(packet({length: 60}))).why, /past the packet end/)
  assert.equal(matcher(u32, ['--u32 0x4&0x3fff=0x0&&0x8>>0x18=0x40'])(ctx(packet({ttl: 64}))).ok, true)
})
