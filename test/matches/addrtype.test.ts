import {test} from 'node:test'
import assert from 'node:assert/strict'
import {addrtype} from '../../src/matches/addrtype.ts'
import {RTN, type RouteResult} from '../../src/engine/state.ts'
import {ctx, fakeRouter, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'

const router = fakeRouter(['10.0.0.2', '10.96.0.10', '2001:db8::2'])

test('--dst-type LOCAL: a local-table address; explanation names address and types', () => {
  const m = matcher(addrtype, ['--dst-type LOCAL'])
  const r = m(ctx(packet({dst: '10.96.0.10'}), {router}))
  assert.equal(r.ok, true)
  assert.equal(r.why, 'destination 10.96.0.10 is LOCAL, which matches LOCAL')
  const u = m(ctx(packet({dst: '8.8.8.8'}), {router}))
  assert.equal(u.ok, false)
  assert.equal(u.why, 'destination 8.8.8.8 is UNICAST, which does not match LOCAL')
})

test('a type list matches any listed type; ! inverts; source is checked too', () => {
  const bcast = fakeRouter([], {addrType: (a) => (a.text === '10.0.0.255' ? RTN.BROADCAST : RTN.UNICAST)})
  const m = matcher(addrtype, ['--dst-type LOCAL,BROADCAST'])
  assert.equal(m(ctx(packet({dst: '10.0.0.255'}), {router: bcast})).ok, true)
  assert.equal(matcher(addrtype, ['! --src-type LOCAL'])(ctx(packet({src: '10.0.0.1'}), {router})).ok, true)
  assert.equal(matcher(addrtype, ['! --src-type LOCAL'])(ctx(packet({src: '10.0.0.2'}), {router})).ok, false)
  const both = matcher(addrtype, ['! --src-type LOCAL', '--dst-type LOCAL'])
  assert.equal(both(ctx(packet({src: '10.0.0.1', dst: '10.0.0.2'}), {router})).ok, true)
  assert.equal(both(ctx(packet({src: '10.0.0.2', dst: '10.0.0.2'}), {router})).ok, false)
})

test('--limit-iface-in passes the input device to the lookup', () => {
  const seen: (string | undefined)[] = []
  const r = fakeRouter(['10.0.0.2'], {addrType: (a, dev) => (seen.push(dev), a.text === '10.0.0.2' && dev === 'eth1' ? RTN.LOCAL : RTN.UNICAST)})
  const m = matcher(addrtype, ['--dst-type LOCAL', '--limit-iface-in'], {chain: 'PREROUTING'})
  assert.equal(m(ctx(packet({iif: 'eth0'}), {router: r, hook: 'PREROUTING'})).ok, false)
  assert.equal(m(ctx(packet({iif: 'eth1'}), {router: r, hook: 'PREROUTING'})).ok, true)
  assert.deepEqual([...new Set(seen)], ['eth0', 'eth1'])
})

test('limit-iface options: not both, not in the wrong hooks (xt_addrtype.c checkentry)', () => {
  assert.throws(() => matcher(addrtype, ['--dst-type LOCAL', '--limit-iface-in', '--limit-iface-out']), /cannot be combined/)
  assert.throws(() => matcher(addrtype, ['--dst-type LOCAL', '--limit-iface-in'], {chain: 'OUTPUT'}), /not valid in OUTPUT/)
  assert.throws(() => matcher(addrtype, ['--dst-type LOCAL', '--limit-iface-out'], {chain: 'INPUT'}), /not valid in INPUT/)
  assert.throws(() => matcher(addrtype, []), /needs --src-type or --dst-type/)
  assert.throws(() => matcher(addrtype, ['--dst-type FOO']), /unknown address type/)
})

const route6 = (type: RouteResult['type']) => fakeRouter([], {lookup: () => ({type, rules: [], explanation: ''})})

test('IPv6: MULTICAST/UNICAST/UNSPEC from the address class, all listed classes must hold', () => {
  const p = (dst: string) => ctx(packet({family: 6, dst}), {router: route6('unicast')})
  assert.equal(matcher(addrtype, ['--dst-type MULTICAST'], {family: 6})(p('ff02::1')).ok, true)
  assert.equal(matcher(addrtype, ['--dst-type UNICAST'], {family: 6})(p('ff02::1')).ok, false)
  const both = matcher(addrtype, ['--dst-type UNICAST,MULTICAST'], {family: 6})(p('ff02::1'))
  assert.equal(both.ok, false, 'IPv6 ANDs the classes')
  assert.equal(both.why, 'destination ff02::1 is MULTICAST, which does not match UNICAST,MULTICAST (IPv6: every listed class must hold)')
  assert.equal(matcher(addrtype, ['--dst-type UNSPEC'], {family: 6})(p('::')).ok, true)
  assert.equal(matcher(addrtype, ['--dst-type UNICAST'], {family: 6})(p('::ffff:10.0.0.1')).ok, false, 'v4-mapped is not unicast')
})

test('IPv6: LOCAL and UNREACHABLE come from a route lookup', () => {
  const m = matcher(addrtype, ['--dst-type LOCAL'], {family: 6})
  const r = m(ctx(packet({family: 6, dst: '2001:db8::2'}), {router: route6('local')}))
  assert.equal(r.ok, true)
  assert.equal(r.why, 'destination 2001:db8::2 is UNICAST,LOCAL, which matches LOCAL')
  assert.equal(m(ctx(packet({family: 6}), {router: route6('unicast')})).ok, false)
  const un = matcher(addrtype, ['--dst-type UNREACHABLE'], {family: 6})
  assert.equal(un(ctx(packet({family: 6}), {router: route6('unreachable')})).ok, true)
  assert.equal(un(ctx(packet({family: 6}), {router: route6('unicast')})).ok, false)
})

test('IPv6: BROADCAST, BLACKHOLE, PROHIBIT and above are refused', () => {
  for (const t of ['BROADCAST', 'BLACKHOLE', 'PROHIBIT', 'THROW']) {
    assert.throws(() => matcher(addrtype, [`--dst-type ${t}`], {family: 6}), /not supported/, t)
  }
})
