import {test} from 'node:test'
import assert from 'node:assert/strict'
import {markTarget} from '../../src/targets/mark.ts'
import {connmarkTarget} from '../../src/targets/connmark.ts'
import {tproxyTarget} from '../../src/targets/tproxy.ts'
import {OptionError} from '../../src/matches/types.ts'
import type {Effect} from '../../src/targets/types.ts'
import {ct, ctx, fakeRouter, packet} from '../helpers/context.ts'
import {opts, savedSpec} from './saved.ts'

const V4 = 'iptables-save.txt'
type Mark = Extract<Effect, {kind: 'mark'}>
const only = (effects: Effect[]) => {
  assert.equal(effects.length, 1)
  return effects[0] as Mark
}

test('MARK: saved --set-xmark 0x4000/0x4000 (an --or-mark) sets bit 14 and keeps the others', () => {
  const spec = savedSpec(markTarget, V4, '--dport 5 -j MARK')
  assert.deepEqual([spec.value, spec.mask], [0x4000, 0x4000])
  const r = markTarget.apply(spec, ctx(packet({mark: 0x3})))
  assert.equal(r.verdict, 'CONTINUE')
  const e = only(r.effects)
  assert.deepEqual([e.field, e.before, e.after, e.value, e.mask], ['nfmark', 0x3, 0x4003, 0x4000, 0x4000])
  assert.equal(e.text, 'mark 0x00000003 → 0x00004003: set-xmark 0x4000/0x4000 = or 0x4000 (bit set: 14)')
})

test('MARK: saved --and-mark 0xff (0x0/0xffffff00) clears the upper bits', () => {
  const spec = savedSpec(markTarget, V4, '--dport 4 -j MARK')
  const e = only(markTarget.apply(spec, ctx(packet({mark: 0x1234}))).effects)
  assert.equal(e.after, 0x34)
  assert.match(e.text, /clear 0xffffff00 \(bits cleared: 9,12\)$/)
})

test('MARK: saved --xor-mark (mask 0) toggles', () => {
  const spec = savedSpec(markTarget, V4, '--dport 6 -j MARK')
  assert.equal(only(markTarget.apply(spec, ctx(packet({mark: 0x4001}))).effects).after, 0x1)
})

test('MARK: hand-written forms convert like libxt_MARK (set-mark v/m → mask m|v)', () => {
  const p = (...w: string[]) => markTarget.parse(opts(...w), {family: 4, table: 'mangle', chain: 'X'})
  assert.deepEqual([p('--set-mark', '0x100/0xff').value, p('--set-mark', '0x100/0xff').mask], [0x100, 0x1ff])
  assert.equal(p('--set-mark', '12').mask, 0xffffffff)
  assert.equal(p('--and-mark', '0xff').mask, 0xffffff00)
  assert.deepEqual([p('--or-mark', '0x10').value, p('--or-mark', '0x10').mask], [0x10, 0x10])
  assert.equal(p('--xor-mark', '0x10').mask, 0)
  assert.match(p('--or-mark', '0x10').op, /^or-mark 0x10 \(set-xmark 0x10\/0x10\) = or 0x10$/)
  assert.throws(() => p('--set-mark', '1', '--or-mark', '2'), OptionError)
  assert.throws(() => p('--set-mark', '0x100000000'), OptionError)
  assert.throws(() => p(), OptionError)
})

test('CONNMARK: saved --set-mark 0x100/0xff is stored as 0x100/0x1ff and changes the ctmark', () => {
  const spec = savedSpec(connmarkTarget, V4, '--dport 52 -j CONNMARK')
  assert.deepEqual(spec, {mode: 'set', value: 0x100, mask: 0x1ff, op: 'set-xmark 0x100/0x1ff = set bits 0x1ff to 0x100'})
  const pkt = packet({mark: 0xabc})
  const e = only(connmarkTarget.apply(spec, ctx({...pkt, ct: ct(pkt, {mark: 0xf0ff})})).effects)
  assert.deepEqual([e.field, e.before, e.after], ['ctmark', 0xf0ff, 0xf100])
})

test('CONNMARK --save-mark with different nfmask/ctmask: ctmark = (ctmark & ~ctmask) ^ (mark & nfmask)', () => {
  const spec = savedSpec(connmarkTarget, V4, '--dport 21 -j CONNMARK')
  assert.deepEqual(spec, {mode: 'save', nfmask: 0xf0, ctmask: 0xff})
  const pkt = packet({mark: 0x1234})
  const e = only(connmarkTarget.apply(spec, ctx({...pkt, ct: ct(pkt, {mark: 0xabcd})})).effects)
  // (0xabcd & ~0xff) ^ (0x1234 & 0xf0) = 0xab00 ^ 0x30
  assert.deepEqual([e.field, e.before, e.value, e.mask, e.after], ['ctmark', 0xabcd, 0x30, 0xff, 0xab30])
  assert.match(e.text, /copies mark 0x1234 & 0xf0 = 0x30 into ctmark bits 0xff/)
})

test('CONNMARK --restore-mark with different masks: mark = (mark & ~nfmask) ^ (ctmark & ctmask)', () => {
  const spec = savedSpec(connmarkTarget, V4, '--dport 20 -j CONNMARK')
  assert.deepEqual(spec, {mode: 'restore', nfmask: 0xff, ctmask: 0xff00})
  const pkt = packet({mark: 0x1234})
  const e = only(connmarkTarget.apply(spec, ctx({...pkt, ct: ct(pkt, {mark: 0xabcd})})).effects)
  // (0x1234 & ~0xff) ^ (0xabcd & 0xff00) = 0x1200 ^ 0xab00 = 0xb900
  assert.deepEqual([e.field, e.before, e.after], ['nfmark', 0x1234, 0xb900])
})

test('CONNMARK default save/restore copy the whole mark', () => {
  const save = savedSpec(connmarkTarget, V4, '--dport 17 -j CONNMARK')
  const restore = savedSpec(connmarkTarget, V4, '--dport 18 -j CONNMARK')
  const pkt = packet({mark: 0x5})
  const c = ct(pkt, {mark: 0x9})
  assert.equal(only(connmarkTarget.apply(save, ctx({...pkt, ct: c})).effects).after, 0x5)
  assert.equal(only(connmarkTarget.apply(restore, ctx({...pkt, ct: c})).effects).after, 0x9)
})

test('CONNMARK shifts (revision 2): save shifts the masked mark right, restore shifts the masked ctmark left', () => {
  const save = savedSpec(connmarkTarget, V4, '--dport 50 -j CONNMARK')
  const restore = savedSpec(connmarkTarget, V4, '--dport 51 -j CONNMARK')
  const pkt = packet({mark: 0x1200})
  const c = ct(pkt, {mark: 0xff34})
  assert.equal(only(connmarkTarget.apply(save, ctx({...pkt, ct: c})).effects).after, 0x12)
  // (0x1200 & ~0xffffffff) ^ ((0xff34 & 0xff00) << 4)
  assert.equal(only(connmarkTarget.apply(restore, ctx({...pkt, ct: c})).effects).after, 0xff000)
})

test('CONNMARK --mask sets both masks; --mask with --nfmask is refused', () => {
  const pc = {family: 4 as const, table: 'mangle', chain: 'X'}
  assert.deepEqual(connmarkTarget.parse(opts('--restore-mark', '--mask', '0xff'), pc), {mode: 'restore', nfmask: 0xff, ctmask: 0xff})
  assert.throws(() => connmarkTarget.parse(opts('--restore-mark', '--mask', '0xff', '--nfmask', '1'), pc), OptionError)
  assert.throws(() => connmarkTarget.parse(opts('--save-mark', '--restore-mark'), pc), OptionError)
  assert.throws(() => connmarkTarget.parse(opts('--set-mark', '1', '--nfmask', '1'), pc), OptionError)
})

test('CONNMARK without a conntrack entry does nothing and says why', () => {
  const spec = savedSpec(connmarkTarget, V4, '--dport 18 -j CONNMARK')
  const pkt = packet({mark: 0x5})
  for (const [c, why] of [[undefined, /has not run/], [null, /INVALID/], [{...ct(pkt), state: 'UNTRACKED' as const}, /untracked/]] as const) {
    const r = connmarkTarget.apply(spec, ctx({...pkt, ct: c}))
    assert.equal(r.verdict, 'CONTINUE')
    assert.equal(r.effects.length, 1)
    assert.equal(r.effects[0]!.kind, 'note')
    assert.match(r.effects[0]!.text, why)
  }
})

test('TPROXY: saved forms parse (no mark → 0/0, mark without mask → /0xffffffff, 0.0.0.0 → no address)', () => {
  assert.deepEqual(savedSpec(tproxyTarget, V4, '--dport 22 -j TPROXY'), {port: 3128, ip: '127.0.0.1', markValue: 1, markMask: 1})
  assert.deepEqual(savedSpec(tproxyTarget, V4, '--dport 23 -j TPROXY'), {port: 3128, markValue: 0, markMask: 0})
  assert.deepEqual(savedSpec(tproxyTarget, V4, '--dport 24 -j TPROXY'), {port: 3128, markValue: 2, markMask: 0xffffffff})
  assert.deepEqual(savedSpec(tproxyTarget, 'ip6tables-save.txt', '--on-ip ::1'), {port: 1, ip: '::1', markValue: 1, markMask: 1})
  assert.throws(() => tproxyTarget.parse(opts('--on-port', '1'), {family: 4, table: 'mangle', chain: 'PREROUTING'}), /-p tcp or -p udp/)
})

test('TPROXY with an assumed transparent socket: mark set, ACCEPT; without: DROP', () => {
  const spec = savedSpec(tproxyTarget, V4, '--dport 22 -j TPROXY')
  const c = {hook: 'PREROUTING' as const, table: 'mangle'}
  const yes = tproxyTarget.apply(spec, ctx(packet({mark: 0x10, assume: {socket: true}}), c))
  assert.equal(yes.verdict, 'ACCEPT')
  const m = yes.effects.find((e) => e.kind === 'mark') as Mark
  assert.deepEqual([m.before, m.after], [0x10, 0x11])
  assert.match(yes.effects[0]!.text, /assumed a transparent .* 127\.0\.0\.1:3128/)
  const no = tproxyTarget.apply(spec, ctx(packet({mark: 0x10}), c))
  assert.equal(no.verdict, 'DROP')
  assert.ok(!no.effects.some((e) => e.kind === 'mark'))
  assert.match(no.effects[0]!.text, /assumed no transparent socket.*drops/)
})

test('TPROXY without --on-ip listens on the input device\'s first address, port 0 keeps the destination port', () => {
  const router = fakeRouter([], {deviceAddrs: () => [packet({src: '192.0.2.7'}).src]})
  const r = tproxyTarget.apply({port: 0, markValue: 0, markMask: 0}, ctx(packet({dport: 443}), {hook: 'PREROUTING', table: 'mangle', router}))
  assert.match(r.effects[0]!.text, /192\.0\.2\.7:443 \(no --on-ip: first address of eth0\)/)
})

test('TPROXY outside mangle PREROUTING says iptables-restore would have refused it', () => {
  const spec = savedSpec(tproxyTarget, V4, '--dport 22 -j TPROXY')
  const r = tproxyTarget.apply(spec, ctx(packet(), {hook: 'INPUT', table: 'filter'}))
  assert.match(r.effects[0]!.text, /only valid in the mangle table .* and only valid at PREROUTING/)
})
