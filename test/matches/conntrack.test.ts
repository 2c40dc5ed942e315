import {test} from 'node:test'
import assert from 'node:assert/strict'
import {conntrack} from '../../src/matches/conntrack.ts'
import {state} from '../../src/matches/state.ts'
import {CT_STATUS, type CtView, type PacketState} from '../../src/engine/state.ts'
import {parseAddr} from '../../src/net/addr.ts'
import {ct, ctx, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'

const base = packet({src: '10.0.0.1', dst: '10.96.0.10', sport: 40000, dport: 80})
const withCt = (f: Partial<CtView> | null | undefined, p: PacketState = base) =>
  ctx({...p, ct: f === null || f === undefined ? f : ct(p, f)})

/** A DNAT-ed connection: 10.0.0.1:40000 -> 10.96.0.10:80, served by 10.244.1.5:8080. */
const dnat: Partial<CtView> = {
  state: 'ESTABLISHED', status: CT_STATUS.DST_NAT | CT_STATUS.SEEN_REPLY | CT_STATUS.ASSURED | CT_STATUS.CONFIRMED,
  reply: {proto: 6, src: parseAddr('10.244.1.5'), dst: parseAddr('10.0.0.1'), sport: 8080, dport: 40000},
}

test('--ctstate: the packet state must be in the list; explanation names both', () => {
  const m = matcher(conntrack, ['--ctstate RELATED,ESTABLISHED'])
  assert.equal(m(withCt({state: 'ESTABLISHED'})).ok, true)
  const r = m(withCt({state: 'NEW'}))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'state NEW is not in ESTABLISHED,RELATED')
})

test('--ctstate DNAT/SNAT are the entry NAT status bits', () => {
  assert.equal(matcher(conntrack, ['--ctstate DNAT'])(withCt(dnat)).ok, true)
  assert.equal(matcher(conntrack, ['--ctstate SNAT'])(withCt(dnat)).ok, false)
  assert.equal(matcher(conntrack, ['--ctstate SNAT'])(withCt({status: CT_STATUS.SRC_NAT})).ok, true)
  assert.match(matcher(conntrack, ['--ctstate NEW'])(withCt(dnat)).why, /state ESTABLISHED,DNAT is not in NEW/)
})

test('no conntrack entry: INVALID (conntrack not run yet, or found INVALID); untracked is UNTRACKED', () => {
  const inv = matcher(conntrack, ['--ctstate INVALID'])
  const early = inv(withCt(undefined))
  assert.equal(early.ok, true)
  assert.match(early.why, /conntrack has not seen the packet yet/)
  assert.equal(inv(withCt(null)).ok, true)
  assert.equal(inv(withCt({state: 'UNTRACKED'})).ok, false)
  assert.equal(matcher(conntrack, ['--ctstate UNTRACKED'])(withCt({state: 'UNTRACKED'})).ok, true)
  assert.equal(matcher(conntrack, ['! --ctstate INVALID'])(withCt(null)).ok, false)
})

test('no entry: with --ctstate the result is that test alone; without it the match fails, even negated', () => {
  const r = matcher(conntrack, ['--ctstate INVALID', '--ctorigdst 1.2.3.4'])(withCt(null))
  assert.equal(r.ok, true, 'xt_conntrack returns after the state test when there is no entry')
  assert.match(r.why, /other conntrack tests are not made/)
  const s = matcher(conntrack, ['! --ctstatus ASSURED'])(withCt(null))
  assert.equal(s.ok, false)
  assert.match(s.why, /only --ctstate could match/)
})

test('--ctorigdst sees the pre-DNAT destination, --ctrepldst/--ctreplsrc the reply tuple; masks and !', () => {
  assert.equal(matcher(conntrack, ['--ctorigdst 10.96.0.0/12'])(withCt(dnat)).ok, true)
  const r = matcher(conntrack, ['--ctreplsrc 10.244.0.0/16'])(withCt(dnat))
  assert.equal(r.ok, true)
  assert.equal(r.why, 'reply source 10.244.1.5 is in 10.244.0.0/16')
  assert.equal(matcher(conntrack, ['! --ctorigsrc 10.0.0.1'])(withCt(dnat)).ok, false)
  assert.equal(matcher(conntrack, ['--ctorigsrc 10.0.0.1/255.255.0.0'])(withCt(dnat)).ok, true, 'dotted mask')
  assert.equal(matcher(conntrack, ['--ctrepldst 10.0.0.2'])(withCt(dnat)).ok, false)
})

test('--ctproto and port ranges compare the tuples', () => {
  assert.equal(matcher(conntrack, ['--ctproto tcp'])(withCt(dnat)).ok, true)
  assert.equal(matcher(conntrack, ['--ctproto 17'])(withCt(dnat)).ok, false)
  assert.equal(matcher(conntrack, ['--ctorigdstport 80'])(withCt(dnat)).ok, true)
  const r = matcher(conntrack, ['--ctreplsrcport 80:90'])(withCt(dnat))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'reply source port 8080 is not in 80:90')
  assert.equal(matcher(conntrack, ['! --ctreplsrcport 80:90'])(withCt(dnat)).ok, true)
  assert.equal(matcher(conntrack, ['--ctorigsrcport 90:80'])(withCt(dnat)).ok, false, 'a reversed range is kept and never matches')
})

test('--ctstatus matches when any listed bit is set; NONE never matches', () => {
  assert.equal(matcher(conntrack, ['--ctstatus EXPECTED,ASSURED'])(withCt(dnat)).ok, true)
  const r = matcher(conntrack, ['--ctstatus EXPECTED'])(withCt(dnat))
  assert.equal(r.ok, false)
  assert.match(r.why, /status SEEN_REPLY,ASSURED,CONFIRMED,DST_NAT has none of EXPECTED/)
  assert.equal(matcher(conntrack, ['--ctstatus NONE'])(withCt({})).ok, false)
  assert.equal(matcher(conntrack, ['! --ctstatus NONE'])(withCt({})).ok, true)
})

test('--ctdir compares the packet direction', () => {
  assert.equal(matcher(conntrack, ['--ctdir ORIGINAL'])(withCt({dir: 'ORIGINAL'})).ok, true)
  assert.equal(matcher(conntrack, ['--ctdir REPLY'])(withCt({dir: 'ORIGINAL'})).ok, false)
  assert.throws(() => matcher(conntrack, ['! --ctdir REPLY']), /cannot be negated/)
})

test('--ctexpire: known lifetime compared; unknown lifetime assumed in range and reported', () => {
  const m = matcher(conntrack, ['--ctexpire 10:20'])
  assert.equal(m(withCt({expires: 15})).ok, true)
  const r = m(withCt({expires: 300}))
  assert.equal(r.ok, false)
  assert.match(r.why, /remaining lifetime \(s\) 300 is not in 10:20/)
  const u = m(withCt({}))
  assert.equal(u.ok, true)
  assert.match(u.assumed!, /remaining lifetime is unknown/)
})

test('tests run in order: the first failing one is named', () => {
  const r = matcher(conntrack, ['--ctstate NEW', '--ctorigdst 10.96.0.10', '--ctstatus ASSURED'])(withCt({state: 'NEW'}))
  assert.equal(r.ok, false)
  assert.match(r.why, /status NONE has none of ASSURED/)
})

test('ctorig* addresses of the wrong family are refused; IPv6 works', () => {
  assert.throws(() => matcher(conntrack, ['--ctorigdst 2001:db8::1']), /IPv6 address in an IPv4 rule/)
  const p6 = packet({family: 6, dst: '2001:db8::10'})
  assert.equal(matcher(conntrack, ['--ctorigdst 2001:db8::/64'], {family: 6})(ctx({...p6, ct: ct(p6)})).ok, true)
})

test('state: --state list, negation (complement), INVALID without entry, UNTRACKED; no SNAT/DNAT names', () => {
  const m = matcher(state, ['--state RELATED,ESTABLISHED'])
  assert.equal(m(withCt({state: 'RELATED'})).ok, true)
  assert.equal(m(withCt({state: 'NEW'})).ok, false)
  assert.equal(matcher(state, ['! --state NEW,UNTRACKED'])(withCt({state: 'ESTABLISHED'})).ok, true)
  assert.equal(matcher(state, ['! --state NEW,UNTRACKED'])(withCt({state: 'UNTRACKED'})).ok, false)
  const inv = matcher(state, ['--state INVALID'])(withCt(undefined))
  assert.equal(inv.ok, true)
  assert.equal(inv.why, 'state INVALID (no conntrack entry: conntrack has not seen the packet yet) is in INVALID')
  assert.equal(matcher(state, ['--state ESTABLISHED'])(withCt(dnat)).why, 'state ESTABLISHED is in ESTABLISHED', 'no DNAT bit in state')
  assert.throws(() => matcher(state, ['--state DNAT']), /unknown state/)
})
