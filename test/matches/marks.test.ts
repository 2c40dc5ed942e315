import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mark} from '../../src/matches/mark.ts'
import {connmark} from '../../src/matches/connmark.ts'
import {ct, ctx, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'

test('mark value/mask: (mark & mask) == value; explanation shows the masked value', () => {
  const m = matcher(mark, ['--mark 0x4000/0xc000'])
  const r = m(ctx(packet({mark: 0x4001})))
  assert.equal(r.ok, true)
  assert.equal(r.why, 'mark 0x4001 & 0xc000 = 0x4000 equals 0x4000')
  assert.equal(m(ctx(packet({mark: 0xc000}))).ok, false)
})

test('mark without mask compares all 32 bits, high bit included', () => {
  const m = matcher(mark, ['--mark 0x80000000'])
  assert.equal(m(ctx(packet({mark: 0x80000000}))).ok, true)
  assert.equal(m(ctx(packet({mark: 0x80000001}))).ok, false)
  assert.equal(matcher(mark, ['--mark 0x80000000/0x80000000'])(ctx(packet({mark: 0xffffffff}))).ok, true)
  assert.equal(matcher(mark, ['--mark 10'])(ctx(packet({mark: 10}))).why, 'mark 0xa equals 0xa')
})

test('! --mark inverts', () => {
  const m = matcher(mark, ['! --mark 0x4000/0x4000'])
  assert.equal(m(ctx(packet({mark: 0}))).ok, true)
  assert.match(m(ctx(packet({mark: 0x4000}))).why, /but the rule says ! --mark/)
})

test('connmark compares the connection mark, not the packet mark', () => {
  const pkt = packet({mark: 0})
  const m = matcher(connmark, ['--mark 0x1/0xff'])
  const r = m(ctx({...pkt, ct: ct(pkt, {mark: 0x101})}))
  assert.equal(r.ok, true)
  assert.equal(r.why, 'ctmark 0x101 & 0xff = 0x1 equals 0x1')
  assert.equal(m(ctx({...packet({mark: 1}), ct: ct(pkt, {mark: 0})})).ok, false)
})

test('connmark without a conntrack entry never matches, even negated (xt_connmark.c)', () => {
  const base = packet({})
  const neg = matcher(connmark, ['! --mark 0x5'])
  for (const c of [undefined, null, ct(base, {state: 'UNTRACKED'})]) {
    const r = neg(ctx({...base, ct: c}))
    assert.equal(r.ok, false, String(c?.state ?? c))
    assert.match(r.why, /no conntrack entry/)
  }
  assert.equal(neg(ctx({...base, ct: ct(base, {mark: 4})})).ok, true)
})
