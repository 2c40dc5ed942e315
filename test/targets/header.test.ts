import {test} from 'node:test'
import assert from 'node:assert/strict'
import {tosTarget} from '../../src/targets/tos.ts'
import {dscpTarget} from '../../src/targets/dscp.ts'
import {ttlTarget} from '../../src/targets/ttl.ts'
import {hlTarget} from '../../src/targets/hl.ts'
import {tcpmssTarget} from '../../src/targets/tcpmss.ts'
import {classifyTarget} from '../../src/targets/classify.ts'
import {checksumTarget} from '../../src/targets/checksum.ts'
import {OptionError} from '../../src/matches/types.ts'
import type {Effect} from '../../src/targets/types.ts'
import {ctx, packet} from '../helpers/context.ts'
import {opts, savedSpec} from './saved.ts'

const V4 = 'iptables-save.txt'
type Header = Extract<Effect, {kind: 'header'}>
const mangle = {hook: 'PREROUTING' as const, table: 'mangle'}
const header = (effects: Effect[]) => {
  assert.equal(effects.length, 1)
  return effects[0] as Header
}

test('TOS saved forms: --and-tos 0x0f is 0x00/0xf0, a symbolic name uses mask 0x3f', () => {
  assert.deepEqual(savedSpec(tosTarget, V4, '--dport 30 -j TOS'), {value: 0, mask: 0xf0})
  assert.deepEqual(savedSpec(tosTarget, V4, '--dport 33 -j TOS'), {value: 0x10, mask: 0x3f})
  assert.deepEqual(tosTarget.parse(opts('--set-tos', 'Minimize-Delay'), {family: 4, table: 'mangle', chain: 'X'}), {value: 0x10, mask: 0x3f})
  assert.throws(() => tosTarget.parse(opts('--set-tos', '0x1ff'), {family: 4, table: 'mangle', chain: 'X'}), OptionError)
})

test('TOS applies (tos & ~mask) ^ value on the byte and keeps bits outside the mask', () => {
  const spec = savedSpec(tosTarget, V4, '--dport 33 -j TOS')
  const e = header(tosTarget.apply(spec, ctx(packet({tos: 0xc3}), mangle)).effects)
  // 0xc3 & ~0x3f = 0xc0, ^ 0x10 = 0xd0: precedence bits kept, low bits cleared.
  assert.deepEqual([e.field, e.before, e.after], ['tos', 0xc3, 0xd0])
  assert.equal(e.text, 'TOS 0xc3 → 0xd0: set-tos 0x10/0x3f (bit set: 4; bits cleared: 0,1)')
  const xor = savedSpec(tosTarget, V4, '--dport 32 -j TOS')
  assert.equal(header(tosTarget.apply(xor, ctx(packet({tos: 0x04}), mangle)).effects).after, 0)
})

test('DSCP replaces the six DSCP bits and keeps ECN', () => {
  assert.deepEqual(savedSpec(dscpTarget, V4, '--dport 35 -j DSCP'), {dscp: 46})
  assert.deepEqual(savedSpec(dscpTarget, V4, '--dport 53 -j DSCP'), {dscp: 34})
  const e = header(dscpTarget.apply({dscp: 46}, ctx(packet({tos: 0x03}), mangle)).effects)
  assert.deepEqual([e.before, e.after], [0x03, 0xbb])
  assert.match(e.text, /^DSCP 0 → 46 \(TOS 0x03 → 0xbb, ECN bits kept\)$/)
  assert.deepEqual(dscpTarget.parse(opts('--set-dscp-class', 'cs6'), {family: 4, table: 'mangle', chain: 'X'}), {dscp: 48})
  assert.throws(() => dscpTarget.parse(opts('--set-dscp', '64'), {family: 4, table: 'mangle', chain: 'X'}), OptionError)
})

test('TTL set/dec/inc saturate at 0 and 255', () => {
  const set = savedSpec(ttlTarget, V4, '--dport 25 -j TTL')
  const dec = savedSpec(ttlTarget, V4, '--dport 26 -j TTL')
  const inc = savedSpec(ttlTarget, V4, '--dport 27 -j TTL')
  assert.deepEqual([set, dec, inc], [{mode: 'set', value: 64}, {mode: 'dec', value: 1}, {mode: 'inc', value: 2}])
  assert.equal(header(ttlTarget.apply(set, ctx(packet({ttl: 3}), mangle)).effects).after, 64)
  assert.equal(header(ttlTarget.apply(dec, ctx(packet({ttl: 3}), mangle)).effects).after, 2)
  assert.equal(header(ttlTarget.apply(dec, ctx(packet({ttl: 0}), mangle)).effects).after, 0)
  const top = header(ttlTarget.apply(inc, ctx(packet({ttl: 254}), mangle)).effects)
  assert.deepEqual([top.field, top.before, top.after], ['ttl', 254, 255])
  assert.equal(top.text, 'TTL 254 → 255: ttl-inc 2 (stops at 255)')
  assert.throws(() => ttlTarget.parse(opts('--ttl-dec', '0'), {family: 4, table: 'mangle', chain: 'X'}), /makes no sense/)
  assert.throws(() => ttlTarget.parse(opts('--ttl-set', '1'), {family: 6, table: 'mangle', chain: 'X'}), /IPv4 only/)
  assert.match(ttlTarget.apply(set, ctx(packet(), {hook: 'INPUT', table: 'filter'})).effects[0]!.text, /only valid in the mangle table/)
})

test('HL works on the IPv6 hop limit with the saved forms', () => {
  const dec = savedSpec(hlTarget, 'ip6tables-save.txt', '-j HL --hl-dec 3')
  assert.deepEqual(dec, {mode: 'dec', value: 3})
  const e = header(hlTarget.apply(dec, ctx(packet({family: 6, ttl: 64}), mangle)).effects)
  assert.deepEqual([e.before, e.after, e.text], [64, 61, 'hop limit 64 → 61: hl-dec 3'])
  assert.throws(() => hlTarget.parse(opts('--hl-set', '1'), {family: 4, table: 'mangle', chain: 'X'}), OptionError)
})

test('TCPMSS: --set-mss only lowers; --clamp-mss-to-pmtu says the MTU is unknown; needs -p tcp', () => {
  const set = savedSpec(tcpmssTarget, V4, '-j TCPMSS --set-mss 1400')
  const clamp = savedSpec(tcpmssTarget, V4, '-j TCPMSS --clamp-mss-to-pmtu')
  assert.deepEqual([set, clamp], [{mss: 1400}, {}])
  const fwd = {hook: 'FORWARD' as const, table: 'mangle'}
  const s = header(tcpmssTarget.apply(set, ctx(packet(), fwd)).effects)
  assert.equal(s.field, 'mss')
  assert.match(s.text, /lowered to 1400 if it is larger \(never raised\); without an MSS option one of 536 is added/)
  const c = header(tcpmssTarget.apply(clamp, ctx(packet(), fwd)).effects)
  assert.equal(c.after, undefined)
  assert.match(c.text, /path MTU − 40 \(route MTU unknown/)
  assert.match(tcpmssTarget.apply(clamp, ctx(packet(), {hook: 'PREROUTING', table: 'mangle'})).effects[0]!.text, /only valid at FORWARD\/OUTPUT\/POSTROUTING/)
  assert.throws(() => tcpmssTarget.parse(opts('--set-mss', '1000'), {family: 4, table: 'mangle', chain: 'X'}), /-p tcp/)
})

test('CLASSIFY: hex MAJ:MIN → priority', () => {
  const spec = savedSpec(classifyTarget, V4, '-j CLASSIFY')
  assert.deepEqual(spec, {major: 1, minor: 0x10})
  const e = header(classifyTarget.apply(spec, ctx(packet(), {hook: 'POSTROUTING', table: 'mangle'})).effects)
  assert.deepEqual([e.field, e.after], ['priority', 0x10010])
  assert.match(e.text, /tc class 1:10/)
})

test('CHECKSUM --checksum-fill in mangle', () => {
  const spec = savedSpec(checksumTarget, V4, '-j CHECKSUM')
  const r = checksumTarget.apply(spec, ctx(packet({proto: 'udp'}), {hook: 'POSTROUTING', table: 'mangle'}))
  assert.equal(r.verdict, 'CONTINUE')
  assert.equal(header(r.effects).field, 'checksum')
  assert.throws(() => checksumTarget.parse([], {family: 4, table: 'mangle', chain: 'X'}), OptionError)
})
