import {test} from 'node:test'
import assert from 'node:assert/strict'
import {dnatTarget} from '../../src/targets/dnat.ts'
import {snatTarget} from '../../src/targets/snat.ts'
import {masqueradeTarget} from '../../src/targets/masquerade.ts'
import {redirectTarget} from '../../src/targets/redirect.ts'
import {netmapTarget} from '../../src/targets/netmap.ts'
import {OptionError} from '../../src/matches/types.ts'
import type {Effect} from '../../src/targets/types.ts'
import {ctx, packet} from '../helpers/context.ts'
import {opts, savedSpec} from './saved.ts'

const V4 = 'iptables-save.txt'
const V6 = 'ip6tables-save.txt'
const nat = (effects: Effect[]) => effects.find((e) => e.kind === 'nat') as Extract<Effect, {kind: 'nat'}>

test('DNAT saved forms: address, address:port, ranges, port only, flags', () => {
  assert.deepEqual(savedSpec(dnatTarget, V4, '--dport 1 -j DNAT'), {type: 'dnat', addrMin: '10.0.0.1', addrMax: '10.0.0.1'})
  assert.deepEqual(savedSpec(dnatTarget, V4, '--dport 2 -j DNAT'), {type: 'dnat', addrMin: '10.0.0.1', addrMax: '10.0.0.1', portMin: 80, portMax: 80})
  assert.deepEqual(savedSpec(dnatTarget, V4, '--dport 3 -j DNAT'), {type: 'dnat', addrMin: '10.0.0.1', addrMax: '10.0.0.5', portMin: 80, portMax: 90})
  assert.deepEqual(savedSpec(dnatTarget, V4, '--dport 4 -j DNAT'), {type: 'dnat', portMin: 8080, portMax: 8080})
  assert.deepEqual(savedSpec(dnatTarget, V4, '--dport 5 -j DNAT'), {type: 'dnat', addrMin: '10.0.0.1', addrMax: '10.0.0.1', portMin: 80, portMax: 80, random: true, persistent: true})
})

test('DNAT apply: ACCEPT with the request and a text naming it', () => {
  const spec = savedSpec(dnatTarget, V4, '--dport 2 -j DNAT')
  const r = dnatTarget.apply(spec, ctx(packet(), {hook: 'PREROUTING', table: 'nat'}))
  assert.equal(r.verdict, 'ACCEPT')
  assert.equal(r.effects.length, 1)
  assert.equal(nat(r.effects).text, 'DNAT to 10.0.0.1:80')
  assert.equal(nat(r.effects).nat, spec)
  assert.equal(nat(dnatTarget.apply(savedSpec(dnatTarget, V4, '--dport 3 -j DNAT'), ctx(packet(), {hook: 'OUTPUT', table: 'nat'})).effects).text, 'DNAT to 10.0.0.1-10.0.0.5:80-90')
  assert.equal(nat(dnatTarget.apply(savedSpec(dnatTarget, V4, '--dport 4 -j DNAT'), ctx(packet(), {hook: 'PREROUTING', table: 'nat'})).effects).text, 'DNAT to port 8080 (address unchanged)')
})

test('DNAT IPv6: [addr]:port, [a-b]:p-q, bare address range, a bare address ending in :80 is all address', () => {
  assert.deepEqual(savedSpec(dnatTarget, V6, '--dport 1 -j DNAT'), {type: 'dnat', addrMin: '2001:db8::1', addrMax: '2001:db8::1', portMin: 80, portMax: 80})
  assert.deepEqual(savedSpec(dnatTarget, V6, '--dport 2 -j DNAT'), {type: 'dnat', addrMin: '2001:db8::1', addrMax: '2001:db8::5', portMin: 80, portMax: 90})
  assert.deepEqual(savedSpec(dnatTarget, V6, '--dport 3 -j DNAT'), {type: 'dnat', addrMin: '2001:db8::1', addrMax: '2001:db8::5'})
  assert.deepEqual(savedSpec(dnatTarget, V6, '--dport 4 -j DNAT'), {type: 'dnat', addrMin: '2001:db8::1:80', addrMax: '2001:db8::1:80'})
  assert.deepEqual(savedSpec(dnatTarget, V6, '--dport 5 -j DNAT'), {type: 'dnat', portMin: 8080, portMax: 8080})
  const r = dnatTarget.apply(savedSpec(dnatTarget, V6, '--dport 2 -j DNAT'), ctx(packet({family: 6}), {hook: 'PREROUTING', table: 'nat'}))
  assert.equal(nat(r.effects).text, 'DNAT to [2001:db8::1-2001:db8::5]:80-90')
})

test('NAT range errors: reversed ports, wrong family, ports without -p, port offsets', () => {
  const tcp4 = {family: 4 as const, table: 'nat', chain: 'PREROUTING', proto: 6}
  assert.throws(() => dnatTarget.parse(opts('--to-destination', '1.1.1.1:90-80'), tcp4), /reversed/)
  assert.throws(() => dnatTarget.parse(opts('--to-destination', '2001:db8::1'), tcp4), OptionError)
  assert.throws(() => dnatTarget.parse(opts('--to-destination', '1.1.1.1:80'), {...tcp4, proto: undefined}), /needs -p/)
  assert.throws(() => dnatTarget.parse(opts('--to-destination', '1.1.1.1:80-90/100'), tcp4), /not modelled/)
  assert.throws(() => dnatTarget.parse(opts('--to-destination', '[2001:db8::1]:80'), tcp4), OptionError)
  assert.throws(() => dnatTarget.parse(opts('--random'), tcp4), /needs --to-destination/)
  assert.throws(() => dnatTarget.parse(opts('--to-destination', '1.1.1.1', '--random-fully'), tcp4), OptionError)
})

test('SNAT saved forms incl. IPv6 brackets and flags', () => {
  assert.deepEqual(savedSpec(snatTarget, V4, '-o eth4 -p tcp -j SNAT'),
    {type: 'snat', addrMin: '1.2.3.4', addrMax: '1.2.3.8', portMin: 1000, portMax: 2000, randomFully: true, persistent: true})
  const v6 = savedSpec(snatTarget, V6, '-j SNAT')
  assert.deepEqual(v6, {type: 'snat', addrMin: '2001:db8::1', addrMax: '2001:db8::1', portMin: 1000, portMax: 2000, random: true})
  const r = snatTarget.apply(v6, ctx(packet({family: 6}), {hook: 'POSTROUTING', table: 'nat'}))
  assert.equal(nat(r.effects).text, 'SNAT to [2001:db8::1]:1000-2000 (random)')
})

test('SNAT in INPUT is allowed, in PREROUTING a note says the kernel refuses it', () => {
  const spec = savedSpec(snatTarget, V4, '-A INPUT -p tcp -j SNAT')
  assert.deepEqual(spec, {type: 'snat', addrMin: '1.2.3.4', addrMax: '1.2.3.4', portMin: 99, portMax: 99})
  assert.equal(snatTarget.apply(spec, ctx(packet(), {hook: 'INPUT', table: 'nat'})).effects.length, 1)
  const bad = snatTarget.apply(spec, ctx(packet(), {hook: 'PREROUTING', table: 'nat'}))
  assert.equal(bad.verdict, 'ACCEPT')
  assert.match(bad.effects[0]!.text, /SNAT is only valid at POSTROUTING\/INPUT \(here: PREROUTING\).*xt_nat\.c/)
})

test('MASQUERADE: ports and flags; only POSTROUTING', () => {
  assert.deepEqual(savedSpec(masqueradeTarget, V4, '-o eth0 -j MASQUERADE'), {type: 'masquerade'})
  const spec = savedSpec(masqueradeTarget, V4, '-o eth1 -p tcp -j MASQUERADE')
  assert.deepEqual(spec, {type: 'masquerade', portMin: 1024, portMax: 2048, randomFully: true})
  assert.deepEqual(savedSpec(masqueradeTarget, V4, '-o eth2 -p tcp -j MASQUERADE'), {type: 'masquerade', random: true})
  const r = masqueradeTarget.apply(spec, ctx(packet(), {hook: 'POSTROUTING', table: 'nat'}))
  assert.equal(nat(r.effects).text, "MASQUERADE to the output device's address ports 1024-2048 (random-fully)")
  assert.match(masqueradeTarget.apply(spec, ctx(packet(), {hook: 'INPUT', table: 'nat'})).effects[0]!.text, /only valid at POSTROUTING/)
  assert.throws(() => masqueradeTarget.parse(opts('--to-ports', '80'), {family: 4, table: 'nat', chain: 'POSTROUTING'}), /needs -p/)
})

test('REDIRECT: ports and --random; PREROUTING and OUTPUT are fine, POSTROUTING is not', () => {
  const spec = savedSpec(redirectTarget, V4, '--dport 7 -j REDIRECT')
  assert.deepEqual(spec, {type: 'redirect', portMin: 8080, portMax: 8090, random: true})
  assert.deepEqual(savedSpec(redirectTarget, V4, '--dport 8 -j REDIRECT'), {type: 'redirect'})
  assert.equal(nat(redirectTarget.apply(savedSpec(redirectTarget, V4, '--dport 6 -j REDIRECT'), ctx(packet(), {hook: 'OUTPUT', table: 'nat'})).effects).text, 'REDIRECT to this host port 8080')
  assert.equal(redirectTarget.apply(spec, ctx(packet(), {hook: 'OUTPUT', table: 'nat'})).effects.length, 1)
  assert.equal(redirectTarget.apply(spec, ctx(packet(), {hook: 'POSTROUTING', table: 'nat'})).effects[0]!.kind, 'note')
})

test('NETMAP: prefix as saved (host bits cleared), direction from the hook', () => {
  const spec = savedSpec(netmapTarget, V4, '-s 10.0.0.0/8 -j NETMAP')
  assert.deepEqual(spec, {type: 'netmap', prefix: '192.0.0.0/8'})
  assert.equal(nat(netmapTarget.apply(spec, ctx(packet(), {hook: 'POSTROUTING', table: 'nat'})).effects).text, 'NETMAP source onto 192.0.0.0/8 (host bits kept)')
  const pre = savedSpec(netmapTarget, V4, '--dport 9 -j NETMAP')
  assert.equal(nat(netmapTarget.apply(pre, ctx(packet(), {hook: 'PREROUTING', table: 'nat'})).effects).text, 'NETMAP destination onto 10.1.0.0/16 (host bits kept)')
  assert.deepEqual(savedSpec(netmapTarget, V6, '-j NETMAP'), {type: 'netmap', prefix: '2001:db8:1::/64'})
  assert.throws(() => netmapTarget.parse(opts('--to', '10.0.0.0/8'), {family: 6, table: 'nat', chain: 'X'}), OptionError)
})

test('a NAT target outside the nat table is flagged', () => {
  const spec = savedSpec(dnatTarget, V4, '--dport 1 -j DNAT')
  assert.match(dnatTarget.apply(spec, ctx(packet(), {hook: 'PREROUTING', table: 'mangle'})).effects[0]!.text, /only valid in the nat table \(here: mangle\)/)
})
