import {test} from 'node:test'
import assert from 'node:assert/strict'
import {source} from '../../src/matches/source.ts'
import {destination} from '../../src/matches/destination.ts'
import {inInterface} from '../../src/matches/in-interface.ts'
import {outInterface} from '../../src/matches/out-interface.ts'
import {protocol} from '../../src/matches/protocol.ts'
import {fragment} from '../../src/matches/fragment.ts'
import {ctx, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'

test('-s: the source address must be in the prefix; the explanation names both', () => {
  const m = matcher(source, ['-s 10.0.0.0/8'])
  const hit = m(ctx(packet({src: '10.1.2.3'})))
  assert.equal(hit.ok, true)
  assert.equal(hit.why, 'source 10.1.2.3 is in 10.0.0.0/8')
  const miss = m(ctx(packet({src: '11.1.2.3'})))
  assert.equal(miss.ok, false)
  assert.equal(miss.why, 'source 11.1.2.3 is not in 10.0.0.0/8')
})

test('! -s inverts, and the explanation says the rule negates it', () => {
  const m = matcher(source, ['! -s 10.0.0.0/8'])
  const r = m(ctx(packet({src: '10.1.2.3'})))
  assert.equal(r.ok, false)
  assert.match(r.why, /source 10\.1\.2\.3 is in 10\.0\.0\.0\/8, but the rule says ! -s 10\.0\.0\.0\/8/)
  assert.equal(m(ctx(packet({src: '192.168.0.1'}))).ok, true)
})

test('-s keeps host bits out (10.1.2.3/8 is 10.0.0.0/8) and a plain address is a /32', () => {
  assert.equal(matcher(source, ['-s 10.1.2.3/8'])(ctx(packet({src: '10.9.9.9'}))).ok, true)
  const host = matcher(source, ['-s 10.1.2.3'])
  assert.equal(host(ctx(packet({src: '10.1.2.3'}))).ok, true)
  assert.equal(host(ctx(packet({src: '10.1.2.4'}))).ok, false)
})

test('-d on IPv6 compares the destination with the v6 prefix', () => {
  const m = matcher(destination, ['-d 2001:db8:1::/48'], {family: 6})
  assert.equal(m(ctx(packet({family: 6, src: '2001:db8::1', dst: '2001:db8:1:ff::9'}))).ok, true)
  const r = m(ctx(packet({family: 6, src: '2001:db8::1', dst: '2001:db8:2::9'})))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'destination 2001:db8:2::9 is not in 2001:db8:1::/48')
})

test('an address of the other family is a parse error', () => {
  assert.throws(() => matcher(source, ['-s 2001:db8::/32']), /IPv6 address in an IPv4 rule/)
})

test('-i: exact name, `+` prefix wildcard, `+` alone, negation', () => {
  const pkt = (iif?: string) => ctx(packet(iif === undefined ? {local: true} : {iif}), {hook: iif === undefined ? 'OUTPUT' : 'INPUT'})
  const exact = matcher(inInterface, ['-i eth0'])
  assert.equal(exact(pkt('eth0')).ok, true)
  assert.equal(exact(pkt('eth01')).ok, false, 'no prefix match without +')
  const wild = matcher(inInterface, ['-i veth+'])
  assert.equal(wild(pkt('veth1234')).ok, true)
  assert.equal(wild(pkt('veth')).ok, true)
  const r = wild(pkt('eth0'))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'in-interface eth0 does not match "veth+"')
  assert.equal(matcher(inInterface, ['! -i veth+'])(pkt('eth0')).ok, true)
  assert.equal(matcher(inInterface, ['-i +'])(pkt()).ok, true, '+ matches even no device (mask of length 0)')
})

test('-i on a packet without an input device: only `+` matches, `! -i eth0` matches', () => {
  const local = ctx(packet({local: true}), {hook: 'OUTPUT'})
  const r = matcher(inInterface, ['-i eth0'])(local)
  assert.equal(r.ok, false)
  assert.match(r.why, /no in-interface \(none at OUTPUT\) does not match "eth0"/)
  assert.equal(matcher(inInterface, ['! -i eth0'])(local).ok, true)
})

test('-o reads the output device', () => {
  const m = matcher(outInterface, ['-o cni0'])
  assert.equal(m(ctx(packet({oif: 'cni0'}), {hook: 'FORWARD'})).ok, true)
  assert.equal(m(ctx(packet({}), {hook: 'PREROUTING'})).ok, false, 'no output device before routing')
})

test('an interface name longer than 15 characters is refused', () => {
  assert.throws(() => matcher(inInterface, ['-i abcdefghijklmnop']), /invalid interface name/)
})

test('-p by name and by number, negated, case-insensitive', () => {
  const tcpPkt = ctx(packet({proto: 'tcp'}))
  const udpPkt = ctx(packet({proto: 'udp'}))
  assert.equal(matcher(protocol, ['-p tcp'])(tcpPkt).ok, true)
  assert.equal(matcher(protocol, ['-p 17'])(udpPkt).ok, true)
  assert.equal(matcher(protocol, ['-p TCP'])(udpPkt).ok, false)
  const r = matcher(protocol, ['! -p tcp'])(tcpPkt)
  assert.equal(r.ok, false)
  assert.match(r.why, /protocol tcp is tcp, but the rule says ! -p tcp/)
  assert.equal(matcher(protocol, ['-p gre'])(ctx(packet({proto: 47}))).ok, true)
  assert.equal(matcher(protocol, ['-p ipip'])(ctx(packet({proto: 94}))).ok, true, '/etc/protocols: ipip is 94')
})

test('-p all / 0 matches everything, and `!` does not change that (ip_tables.c skips protocol 0)', () => {
  for (const o of ['-p all', '-p 0', '! -p all']) assert.equal(matcher(protocol, [o])(ctx(packet({proto: 'udp'}))).ok, true, o)
})

test('-p icmpv6 and ipv6-icmp are protocol 58', () => {
  const p = ctx(packet({family: 6, proto: 'icmpv6', icmpType: 128, icmpCode: 0}))
  assert.equal(matcher(protocol, ['-p ipv6-icmp'], {family: 6})(p).ok, true)
  assert.equal(matcher(protocol, ['-p icmpv6'], {family: 6})(p).ok, true)
  assert.throws(() => matcher(protocol, ['-p nosuchproto']), /unknown protocol/)
})

test('-f matches only non-first fragments, ! -f the rest; IPv6 has no -f', () => {
  const frag = ctx(packet({fragment: true}))
  const first = ctx(packet({}))
  assert.equal(matcher(fragment, ['-f'])(frag).ok, true)
  assert.equal(matcher(fragment, ['-f'])(first).ok, false)
  assert.equal(matcher(fragment, ['! -f'])(first).ok, true)
  assert.match(matcher(fragment, ['-f'])(first).why, /is not a non-first fragment/)
  assert.throws(() => matcher(fragment, ['-f'], {family: 6}), /IPv4 only/)
})
