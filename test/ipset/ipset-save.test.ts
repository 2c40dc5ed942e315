import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {parseIpsetSave} from '../../src/parse/ipset-save.ts'
import {packet} from '../helpers/context.ts'
import type {IpSet} from '../../src/model/ipset.ts'

const REAL = 'test/fixtures/ipset/real-v7.17.txt'
const real = parseIpsetSave(readFileSync(REAL, 'utf8'), REAL)
const hand = parseIpsetSave(readFileSync('test/fixtures/ipset/handwritten.txt', 'utf8'), 'handwritten.txt')
const get = (sets: Map<string, IpSet>, n: string) => sets.get(n)!

test('real ipset save output (ipset v7.17) parses without errors', () => {
  assert.deepEqual(real.diagnostics.filter((d) => d.severity === 'error'), [])
  assert.equal(real.sets.size, 17)
  assert.equal(get(real.sets, 'n4').size, 4)
  assert.equal(get(real.sets, 'KUBE-LOOP-BACK').dims, 3)
  assert.equal(get(real.sets, 'h6').family, 6)
  assert.deepEqual(real.diagnostics, [], 'skbmark (SET --map-set data) is read and ignored')
})

test('hash:net: the most specific prefix decides, and a nomatch element means not in the set', () => {
  const n4 = get(real.sets, 'n4')
  const r1 = n4.test(packet({src: '10.1.5.5'}), ['src'])
  assert.equal(r1.hit, false)
  assert.equal(r1.element, '10.1.0.0/16')
  assert.equal(r1.nomatch, true)
  const r2 = n4.test(packet({src: '10.1.2.3'}), ['src'])
  assert.deepEqual([r2.hit, r2.element], [true, '10.1.2.0/24'])
  assert.match(r2.reason, /10\.1\.2\.3 \(src\) is in n4 via element 10\.1\.2\.0\/24/)
  assert.deepEqual([n4.test(packet({src: '10.2.0.1'}), ['src']).element], ['10.0.0.0/8'])
  assert.equal(n4.test(packet({src: '192.168.1.1'}), ['src']).hit, true)
  assert.equal(n4.test(packet({src: '192.168.1.2'}), ['src']).hit, false)
  assert.equal(n4.test(packet({dst: '10.1.2.3'}), ['dst']).hit, true)
})

test('hash:net --return-nomatch: nomatch elements match and ordinary ones do not (ip_set_core.c ip_set_test)', () => {
  const n4 = get(real.sets, 'n4')
  assert.equal(n4.test(packet({src: '10.1.5.5'}), ['src'], {returnNomatch: true}).hit, true)
  assert.equal(n4.test(packet({src: '10.2.0.1'}), ['src'], {returnNomatch: true}).hit, false)
  // hash:ip has no nomatch feature: the flag changes nothing.
  assert.equal(get(real.sets, 'h4').test(packet({src: '10.0.0.5'}), ['src'], {returnNomatch: true}).hit, true)
})

test('IPv6 hash:net nomatch and family mismatch', () => {
  const n6 = get(real.sets, 'n6')
  assert.equal(n6.test(packet({family: 6, src: '2001:db8:1::5'}), ['src']).hit, false)
  assert.equal(n6.test(packet({family: 6, src: '2001:db8:2::5'}), ['src']).hit, true)
  const r = n6.test(packet({src: '10.0.0.1'}), ['src'])
  assert.equal(r.hit, false)
  assert.match(r.reason, /IPv6 set and the packet is IPv4/)
})

test('hash:ip,port: the protocol is part of the key and defaults to tcp', () => {
  const ports = get(hand.sets, 'ports')
  assert.equal(ports.test(packet({dst: '10.96.0.10', proto: 'tcp', dport: 53}), ['dst', 'dst']).hit, true)
  const udp = ports.test(packet({dst: '10.96.0.10', proto: 'udp', dport: 53}), ['dst', 'dst'])
  assert.equal(udp.hit, false)
  assert.match(udp.reason, /10\.96\.0\.10,udp:53 \(dst,dst\) is not in ports/)
  const ipp = get(real.sets, 'ipp')
  assert.equal(ipp.test(packet({dst: '10.96.0.10', proto: 'udp', dport: 53}), ['dst', 'dst']).hit, true)
  assert.equal(ipp.test(packet({dst: '10.96.0.10', proto: 'udp', sport: 53, dport: 9}), ['dst', 'src']).hit, true)
  assert.equal(ipp.test(packet({dst: '10.0.0.2', proto: 'sctp', dport: 99}), ['dst', 'dst']).hit, true)
  assert.equal(ipp.test(packet({dst: '10.0.0.3', proto: 'gre'}), ['dst', 'dst']).hit, true)
})

test('hash:ip,port: ICMP type/code is the port, named as ipset prints it', () => {
  const ipp = get(real.sets, 'ipp')
  const r = ipp.test(packet({dst: '10.0.0.1', proto: 'icmp', icmpType: 3, icmpCode: 4}), ['dst', 'dst'])
  assert.deepEqual([r.hit, r.element], [true, '10.0.0.1,icmp:fragmentation-needed'])
  assert.equal(ipp.test(packet({dst: '10.0.0.1', proto: 'icmp', icmpType: 3, icmpCode: 3}), ['dst', 'dst']).hit, false)
  const six = get(real.sets, 'ipp6')
  assert.equal(six.test(packet({family: 6, dst: '2001:db8::1', proto: 'icmpv6', icmpType: 128, icmpCode: 0}), ['dst', 'dst']).element, '2001:db8::1,ipv6-icmp:echo-request')
  // A non-first fragment has no port: no key, not in the set.
  assert.equal(ipp.test(packet({dst: '10.96.0.10', proto: 'tcp', dport: 53, fragment: true}), ['dst', 'dst']).hit, false)
})

test('hash:ip,port,ip with dst,dst,src: an endpoint talking to itself (KUBE-LOOP-BACK)', () => {
  const s = get(real.sets, 'KUBE-LOOP-BACK')
  const hairpin = packet({src: '10.244.1.5', dst: '10.244.1.5', proto: 'tcp', dport: 8080})
  assert.equal(s.test(hairpin, ['dst', 'dst', 'src']).hit, true)
  assert.equal(s.test(packet({src: '10.244.1.9', dst: '10.244.1.5', dport: 8080}), ['dst', 'dst', 'src']).hit, false)
  assert.equal(s.test(hairpin, ['src', 'src', 'dst']).hit, false, 'src,src,dst takes the source port 40000')
  const few = s.test(hairpin, ['dst', 'dst'])
  assert.equal(few.hit, false)
  assert.match(few.reason, /2 direction\(s\) but hash:ip,port,ip needs 3/)
})

test('hash:ip,port,net and hash:net,port: nomatch on the net dimension', () => {
  const ipn = get(real.sets, 'ipn')
  assert.equal(ipn.test(packet({src: '10.2.0.1', dst: '10.96.0.1', dport: 443}), ['dst', 'dst', 'src']).hit, true)
  assert.equal(ipn.test(packet({src: '10.1.0.1', dst: '10.96.0.1', dport: 443}), ['dst', 'dst', 'src']).hit, false)
  const np = get(real.sets, 'np')
  assert.equal(np.test(packet({src: '10.0.0.7', proto: 'udp', dport: 53}), ['src', 'dst']).hit, true)
  assert.equal(np.test(packet({src: '10.0.1.7', proto: 'udp', dport: 53}), ['src', 'dst']).nomatch, true)
})

test('hash:net,iface: src takes the input device, dst the output device', () => {
  const ni = get(real.sets, 'ni')
  assert.equal(ni.test(packet({src: '10.3.3.3', iif: 'eth0'}), ['src', 'src']).hit, true)
  assert.equal(ni.test(packet({src: '10.3.3.3', iif: 'eth1'}), ['src', 'src']).hit, false, 'physdev:eth1 is a bridge port element')
  assert.equal(ni.test(packet({src: '10.3.3.3', oif: 'eth0'}), ['src', 'dst']).hit, true)
  assert.match(ni.test(packet({src: '10.3.3.3', local: true}), ['src', 'src']).reason, /no input device/)
})

test('bitmap:port (tcp/udp only, range), bitmap:ip with netmask, bitmap:ip,mac', () => {
  const bp = get(real.sets, 'bp')
  assert.equal(bp.test(packet({proto: 'tcp', dport: 81}), ['dst']).hit, true)
  assert.equal(bp.test(packet({proto: 'udp', dport: 22}), ['dst']).hit, true)
  assert.equal(bp.test(packet({proto: 'tcp', dport: 83}), ['dst']).hit, false)
  assert.match(bp.test(packet({proto: 'sctp', dport: 22}), ['dst']).reason, /needs a tcp\/udp packet/)
  assert.match(bp.test(packet({proto: 'tcp', dport: 2000}), ['dst']).reason, /outside the bitmap range/)
  const bi2 = get(real.sets, 'bi2')
  assert.equal(bi2.test(packet({src: '10.0.0.6'}), ['src']).hit, true, 'netmask 30: 10.0.0.6 is in 10.0.0.4/30')
  assert.equal(bi2.test(packet({src: '10.0.0.8'}), ['src']).hit, false)
  const bipm = get(real.sets, 'bipm')
  assert.equal(bipm.test(packet({src: '10.0.0.3', srcMac: '00:11:22:33:44:55'}), ['src', 'src']).hit, true)
  assert.equal(bipm.test(packet({src: '10.0.0.3', srcMac: '00:11:22:33:44:56'}), ['src', 'src']).hit, false)
})

test('hash:ip,mark applies the markmask; hash:mac uses the source MAC', () => {
  const marks = get(hand.sets, 'marks')
  assert.equal(marks.test(packet({src: '10.0.0.1', mark: 0x210}), ['src', 'src']).hit, true, '0x210 & 0xff = 0x10 = 0x110 & 0xff')
  assert.equal(marks.test(packet({src: '10.0.0.1', mark: 0x11}), ['src', 'src']).hit, false)
  const macs = get(hand.sets, 'macs')
  assert.equal(macs.test(packet({srcMac: '00:11:22:33:44:55'}), ['src']).hit, true)
  assert.match(macs.test(packet({srcMac: '00:11:22:33:44:55'}), ['dst']).reason, /destination MAC/)
})

test('list:set: members are tested in order and the first hit decides', () => {
  const l = get(hand.sets, 'l')
  const r = l.test(packet({src: '1.1.1.1'}), ['src'])
  assert.equal(r.hit, true)
  assert.match(r.reason, /^l → member b: /)
  assert.match(l.test(packet({src: '2.2.2.2'}), ['src']).reason, /member b/)
  const miss = l.test(packet({src: '3.3.3.3'}), ['src'])
  assert.equal(miss.hit, false)
  assert.match(miss.reason, /b: .*; a: /)
  // The real list: n4's nomatch 10.1.0.0/16 says no, h4 is asked next.
  const ls = get(real.sets, 'ls')
  assert.equal(ls.test(packet({src: '10.1.9.9'}), ['src']).hit, false)
  assert.match(ls.test(packet({src: '10.0.0.5'}), ['src']).reason, /member n4/)
})

test('element extensions show in the reason: timeout left at snapshot time, comment, counters', () => {
  const h4 = get(real.sets, 'h4')
  assert.match(h4.test(packet({src: '10.0.0.6'}), ['src']).reason, /timeout 299s left at snapshot time; assumed still present/)
  assert.match(h4.test(packet({src: '10.0.0.5'}), ['src']).reason, /permanent, comment "web server", packets 3 bytes 180/)
})

test('withChange returns a new set and leaves the original alone', () => {
  const a = get(hand.sets, 'a')
  const p = packet({src: '9.9.9.9'})
  const c = a.withChange('add', p, ['src'])
  assert.deepEqual([c.changed, c.element], [true, '9.9.9.9'])
  assert.equal(c.set.test(p, ['src']).hit, true)
  assert.equal(a.test(p, ['src']).hit, false)
  assert.equal(c.set.withChange('add', p, ['src']).changed, false)
  const d = c.set.withChange('del', p, ['src'])
  assert.equal(d.set.test(p, ['src']).hit, false)
  // hash:net adds with the most specific prefix in use (ip_set_hash_net.c INIT_CIDR).
  const n = get(real.sets, 'n4').withChange('add', packet({src: '172.16.5.9'}), ['src'])
  assert.equal(n.element, '172.16.5.9')
  // list:set adds to the first member that takes the element.
  const l = get(hand.sets, 'l').withChange('add', p, ['src'])
  assert.match(l.element, /in member b/)
  assert.equal(l.set.test(p, ['src']).hit, true)
})

test('bad lines are reported as file:line and reading goes on', () => {
  const r = parseIpsetSave([
    'create x hash:ip family inet',
    'add x 10.0.0.300',
    'add y 1.2.3.4',
    'create z hash:foo',
    'add z 1',
    'create w hash:net',
    'add w 10.0.0.0/8 nomatch bogus',
    'add x 10.0.0.1',
    'frob',
  ].join('\n'), 'f.txt')
  assert.deepEqual(r.diagnostics.map((d) => `${d.line} ${d.severity}`), ['2 error', '3 error', '4 error', '7 warning', '9 error'])
  assert.match(r.diagnostics[1]!.message, /add to set y, which has no create line/)
  assert.match(r.diagnostics[2]!.message, /hash:foo is not modelled/)
  assert.equal(r.sets.get('x')!.size, 1)
  assert.equal(r.sets.has('z'), false)
})
