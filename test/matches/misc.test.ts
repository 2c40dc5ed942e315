import {test} from 'node:test'
import assert from 'node:assert/strict'
import {comment} from '../../src/matches/comment.ts'
import {iprange} from '../../src/matches/iprange.ts'
import {mac} from '../../src/matches/mac.ts'
import {length} from '../../src/matches/length.ts'
import {ttl} from '../../src/matches/ttl.ts'
import {hl} from '../../src/matches/hl.ts'
import {tos} from '../../src/matches/tos.ts'
import {dscp} from '../../src/matches/dscp.ts'
import {pkttype} from '../../src/matches/pkttype.ts'
import {ctx, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'

test('comment always matches and says so', () => {
  const o = {name: 'comment', values: ['kube-system/dns:dns cluster IP'], negated: false, text: '--comment "kube-system/dns:dns cluster IP"'}
  const r = matcher(comment, [o])(ctx(packet({})))
  assert.equal(r.ok, true)
  assert.equal(r.why, 'comment "kube-system/dns:dns cluster IP" (always matches)')
  assert.throws(() => matcher(comment, [{...o, negated: true}]), /cannot be negated/)
})

test('iprange: inclusive bounds, ! per option, source and destination', () => {
  const m = matcher(iprange, ['--src-range 10.0.0.1-10.0.0.9'])
  assert.equal(m(ctx(packet({src: '10.0.0.1'}))).ok, true)
  assert.equal(m(ctx(packet({src: '10.0.0.9'}))).ok, true)
  const r = m(ctx(packet({src: '10.0.0.10'})))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'source 10.0.0.10 is not in 10.0.0.1-10.0.0.9')
  const both = matcher(iprange, ['! --src-range 10.0.0.1-10.0.0.9', '--dst-range 1.2.3.4-1.2.3.5'])
  assert.equal(both(ctx(packet({src: '10.0.0.20', dst: '1.2.3.5'}))).ok, true)
  assert.equal(both(ctx(packet({src: '10.0.0.5', dst: '1.2.3.5'}))).ok, false)
  assert.equal(matcher(iprange, ['--src-range 10.0.0.9-10.0.0.1'])(ctx(packet({src: '10.0.0.5'}))).ok, false, 'reversed: never')
})

test('iprange IPv6 compares addresses numerically', () => {
  const m = matcher(iprange, ['--dst-range 2001:db8::10-2001:db8::1:0'], {family: 6})
  assert.equal(m(ctx(packet({family: 6, dst: '2001:db8::ffff'}))).ok, true)
  assert.equal(m(ctx(packet({family: 6, dst: '2001:db8::f'}))).ok, false)
  assert.throws(() => matcher(iprange, ['--dst-range 10.0.0.1-10.0.0.2'], {family: 6}), /IPv4 address in an IPv6 rule/)
})

test('mac --mac-source: case-insensitive compare, !, unknown MAC assumed different', () => {
  const m = matcher(mac, ['--mac-source AA:bb:cc:dd:ee:ff'])
  const r = m(ctx(packet({srcMac: 'aa:bb:cc:dd:ee:ff'})))
  assert.equal(r.ok, true)
  assert.equal(r.why, 'source MAC aa:bb:cc:dd:ee:ff is aa:bb:cc:dd:ee:ff')
  assert.equal(matcher(mac, ['! --mac-source aa:bb:cc:dd:ee:ff'])(ctx(packet({srcMac: '02:00:00:00:00:01'}))).ok, true)
  const unknown = m(ctx(packet({})))
  assert.equal(unknown.ok, false)
  assert.match(unknown.assumed!, /source MAC is not given/)
})

test('mac: no match from lo even negated, and only PREROUTING/INPUT/FORWARD', () => {
  const neg = matcher(mac, ['! --mac-source aa:bb:cc:dd:ee:ff'])
  assert.equal(neg(ctx(packet({iif: 'lo'}))).ok, false)
  assert.equal(neg(ctx(packet({local: true}), {hook: 'OUTPUT'})).ok, false)
  assert.throws(() => matcher(mac, ['--mac-source aa:bb:cc:dd:ee:ff'], {chain: 'OUTPUT'}), /only valid in/)
  assert.throws(() => matcher(mac, ['--mac-source aa:bb:cc:dd:ee']), /invalid MAC/)
})

test('length: single value, range, open range, negation', () => {
  assert.equal(matcher(length, ['--length 60'])(ctx(packet({length: 60}))).ok, true)
  const r = matcher(length, ['--length 100:200'])(ctx(packet({length: 60})))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'length 60 is not in 100:200')
  assert.equal(matcher(length, ['! --length 100:200'])(ctx(packet({length: 60}))).ok, true)
  assert.equal(matcher(length, ['--length 1000:'])(ctx(packet({length: 65535}))).ok, true)
  assert.equal(matcher(length, ['--length :9'])(ctx(packet({length: 10}))).ok, false)
})

test('ttl: eq / ! eq / lt / gt; `!` only on eq', () => {
  const p = ctx(packet({ttl: 64}))
  assert.equal(matcher(ttl, ['--ttl-eq 64'])(p).ok, true)
  assert.equal(matcher(ttl, ['! --ttl-eq 64'])(p).ok, false)
  assert.equal(matcher(ttl, ['--ttl-lt 64'])(p).ok, false)
  assert.equal(matcher(ttl, ['--ttl-lt 65'])(p).ok, true)
  const r = matcher(ttl, ['--ttl-gt 64'])(p)
  assert.equal(r.ok, false)
  assert.equal(r.why, 'ttl 64 is not greater than 64')
  assert.throws(() => matcher(ttl, ['! --ttl-lt 3']), /cannot be negated/)
  assert.throws(() => matcher(ttl, ['--ttl-eq 1', '--ttl-gt 2']), /exactly one/)
  assert.throws(() => matcher(ttl, ['--ttl-eq 1'], {family: 6}), /IPv4 match/)
})

test('hl: IPv6 hop limit', () => {
  const p = ctx(packet({family: 6, ttl: 255}))
  assert.equal(matcher(hl, ['--hl-eq 255'], {family: 6})(p).ok, true)
  const r = matcher(hl, ['! --hl-eq 255'], {family: 6})(p)
  assert.equal(r.ok, false)
  assert.match(r.why, /hop limit 255 is 255, but the rule says ! --hl-eq 255/)
  assert.equal(matcher(hl, ['--hl-lt 2'], {family: 6})(ctx(packet({family: 6, ttl: 1}))).ok, true)
})

test('tos: value/mask, bare value is mask 0xff, symbolic names are mask 0x3f', () => {
  const r = matcher(tos, ['--tos 0x10/0x3f'])(ctx(packet({tos: 0xd0})))
  assert.equal(r.ok, true, '0xd0 & 0x3f = 0x10')
  assert.equal(r.why, 'tos 0xd0 & 0x3f = 0x10 equals 0x10')
  assert.equal(matcher(tos, ['--tos 0x10'])(ctx(packet({tos: 0xd0}))).ok, false)
  assert.equal(matcher(tos, ['--tos Minimize-Delay'])(ctx(packet({tos: 0x90}))).ok, true)
  assert.equal(matcher(tos, ['! --tos 0x10/0xf0'])(ctx(packet({tos: 0x10}))).ok, false)
  assert.throws(() => matcher(tos, ['--tos Fast']), /not a number/)
})

test('dscp: (tos >> 2) == dscp, by number or class', () => {
  const ef = ctx(packet({tos: 0xb8}))
  assert.equal(matcher(dscp, ['--dscp 0x2e'])(ef).ok, true)
  assert.equal(matcher(dscp, ['--dscp-class EF'])(ef).ok, true)
  assert.equal(matcher(dscp, ['--dscp-class AF41'])(ctx(packet({tos: 34 << 2}))).ok, true)
  const r = matcher(dscp, ['--dscp 10'])(ef)
  assert.equal(r.ok, false)
  assert.equal(r.why, 'dscp 0x2e (tos 0xb8) is not 0xa')
  assert.equal(matcher(dscp, ['! --dscp 10'])(ef).ok, true)
  assert.throws(() => matcher(dscp, ['--dscp 64']), /out of range/)
  assert.throws(() => matcher(dscp, ['--dscp-class XX']), /unknown DSCP class/)
})

test('pkttype: names and aliases; otherhost is none of them', () => {
  assert.equal(matcher(pkttype, ['--pkt-type broadcast'])(ctx(packet({pktType: 'broadcast'}))).ok, true)
  assert.equal(matcher(pkttype, ['--pkt-type bcast'])(ctx(packet({pktType: 'broadcast'}))).ok, true)
  assert.equal(matcher(pkttype, ['--pkt-type host'])(ctx(packet({pktType: 'unicast'}))).ok, true)
  const r = matcher(pkttype, ['! --pkt-type unicast'])(ctx(packet({pktType: 'unicast'})))
  assert.equal(r.ok, false)
  assert.match(r.why, /packet type unicast is unicast, but the rule says ! --pkt-type unicast/)
  assert.equal(matcher(pkttype, ['--pkt-type unicast'])(ctx(packet({pktType: 'otherhost'}))).ok, false)
})
