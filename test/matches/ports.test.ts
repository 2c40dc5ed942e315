import {test} from 'node:test'
import assert from 'node:assert/strict'
import {tcp} from '../../src/matches/tcp.ts'
import {udp} from '../../src/matches/udp.ts'
import {sctp} from '../../src/matches/sctp.ts'
import {multiport} from '../../src/matches/multiport.ts'
import {TCP_FLAGS} from '../../src/model/packet.ts'
import {ctx, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'

const TCP = {proto: 6}
const UDP = {proto: 17}
const {FIN, SYN, RST, ACK, PSH} = TCP_FLAGS

test('tcp --dport range: in, out, and the explanation names port and range', () => {
  const m = matcher(tcp, ['--dport 80:90'], TCP)
  assert.equal(m(ctx(packet({dport: 80}))).ok, true)
  assert.equal(m(ctx(packet({dport: 90}))).ok, true, 'ranges are inclusive')
  const r = m(ctx(packet({dport: 443})))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'dport 443 is not in 80:90')
})

test('tcp ! --dport inverts; open ranges :b and a: ; single port', () => {
  assert.equal(matcher(tcp, ['! --dport 80:90'], TCP)(ctx(packet({dport: 443}))).ok, true)
  assert.equal(matcher(tcp, ['! --dport 80:90'], TCP)(ctx(packet({dport: 85}))).ok, false)
  assert.equal(matcher(tcp, ['--sport :1023'], TCP)(ctx(packet({sport: 0}))).ok, true)
  assert.equal(matcher(tcp, ['--sport :1023'], TCP)(ctx(packet({sport: 1024}))).ok, false)
  assert.equal(matcher(tcp, ['--sport 1024:'], TCP)(ctx(packet({sport: 65535}))).ok, true)
  const one = matcher(tcp, ['--dport 22'], TCP)(ctx(packet({dport: 23})))
  assert.equal(one.why, 'dport 23 is not 22')
})

test('tcp: sport and dport both have to hold; success names both', () => {
  const m = matcher(tcp, ['--sport 1024:65535', '--dport 443'], TCP)
  const r = m(ctx(packet({sport: 40000, dport: 443})))
  assert.equal(r.ok, true)
  assert.equal(r.why, 'sport 40000 is in 1024:65535; dport 443 is 443')
  assert.equal(m(ctx(packet({sport: 1000, dport: 443}))).why, 'sport 1000 is not in 1024:65535')
})

test('tcp --tcp-flags MASK COMP: (flags & MASK) == COMP, with ALL and NONE', () => {
  const synOnly = matcher(tcp, ['--tcp-flags SYN,RST,ACK,FIN SYN'], TCP)
  assert.equal(synOnly(ctx(packet({tcpFlags: SYN}))).ok, true)
  assert.equal(synOnly(ctx(packet({tcpFlags: SYN | PSH}))).ok, true, 'PSH is outside the mask')
  const r = synOnly(ctx(packet({tcpFlags: SYN | ACK})))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'flags SYN,ACK & FIN,SYN,RST,ACK = SYN,ACK does not equal SYN')
  const nullScan = matcher(tcp, ['--tcp-flags ALL NONE'], TCP)
  assert.equal(nullScan(ctx(packet({tcpFlags: 0}))).ok, true)
  assert.equal(nullScan(ctx(packet({tcpFlags: 0x40}))).ok, true, 'ALL is the six classic flags: ECE is outside it')
  assert.equal(nullScan(ctx(packet({tcpFlags: FIN}))).ok, false)
  assert.throws(() => matcher(tcp, ['--tcp-flags ECE ECE'], TCP), /unknown TCP flag/)
})

test('tcp --syn is --tcp-flags FIN,SYN,RST,ACK SYN; ! --syn matches the rest', () => {
  assert.equal(matcher(tcp, ['--syn'], TCP)(ctx(packet({tcpFlags: SYN}))).ok, true)
  assert.equal(matcher(tcp, ['--syn'], TCP)(ctx(packet({tcpFlags: SYN | RST}))).ok, false)
  assert.equal(matcher(tcp, ['! --syn'], TCP)(ctx(packet({tcpFlags: ACK}))).ok, true)
  assert.throws(() => matcher(tcp, ['--syn', '--tcp-flags SYN SYN'], TCP), /cannot be combined/)
})

test('tcp --tcp-option: options are not modelled, assumed absent, and the result says so', () => {
  const r = matcher(tcp, ['--tcp-option 2'], TCP)(ctx(packet({})))
  assert.equal(r.ok, false)
  assert.match(r.assumed!, /no TCP option 2/)
  const n = matcher(tcp, ['! --tcp-option 2'], TCP)(ctx(packet({})))
  assert.equal(n.ok, true)
  assert.ok(n.assumed)
})

test('tcp never matches a non-first fragment, even negated (xt_tcpudp.c)', () => {
  const r = matcher(tcp, ['! --dport 80'], TCP)(ctx(packet({dport: 443, fragment: true})))
  assert.equal(r.ok, false)
  assert.match(r.why, /non-first fragment/)
  assert.equal(matcher(tcp, [], TCP)(ctx(packet({fragment: true}))).ok, false)
  assert.equal(matcher(tcp, [], TCP)(ctx(packet({}))).ok, true, '-m tcp alone matches every tcp packet')
})

test('tcp: the rule must say -p tcp; reversed or out-of-range ports are refused', () => {
  assert.throws(() => matcher(tcp, ['--dport 80'], UDP), /needs -p tcp/)
  assert.throws(() => matcher(tcp, ['--dport 90:80'], TCP), /min > max/)
  assert.throws(() => matcher(tcp, ['--dport 70000'], TCP), /invalid port/)
  assert.throws(() => matcher(tcp, ['--dport 80', '--dport 81'], TCP), /only one/)
  assert.equal(matcher(tcp, ['--destination-port 80'], TCP)(ctx(packet({dport: 80}))).ok, true, 'long alias')
})

test('udp --sport/--dport', () => {
  const m = matcher(udp, ['--dport 53'], UDP)
  assert.equal(m(ctx(packet({proto: 'udp', dport: 53}))).ok, true)
  assert.equal(m(ctx(packet({proto: 'udp', dport: 5353}))).ok, false)
  assert.equal(matcher(udp, ['! --sport 1:1023'], UDP)(ctx(packet({proto: 'udp', sport: 40000}))).ok, true)
})

test('sctp ports; --chunk-types rests on an assumption', () => {
  const p = ctx(packet({proto: 'sctp', dport: 38412}))
  assert.equal(matcher(sctp, ['--dport 38412'], {proto: 132})(p).ok, true)
  const r = matcher(sctp, ['--chunk-types only DATA:Be,INIT'], {proto: 132})(p)
  assert.equal(r.ok, true)
  assert.match(r.assumed!, /chunks/)
  assert.throws(() => matcher(sctp, ['--chunk-types some INIT'], {proto: 132}), /all, any or only/)
})

test('multiport --dports list with ranges', () => {
  const m = matcher(multiport, ['--dports 22,80:90,443'], TCP)
  for (const port of [22, 85, 443]) assert.equal(m(ctx(packet({dport: port}))).ok, true, String(port))
  const r = m(ctx(packet({dport: 8080})))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'dport 8080 is not in 22,80:90,443')
})

test('multiport ! --sports and --ports (either direction)', () => {
  assert.equal(matcher(multiport, ['! --sports 1:1023'], TCP)(ctx(packet({sport: 40000}))).ok, true)
  const either = matcher(multiport, ['--ports 53,443'], UDP)
  assert.equal(either(ctx(packet({proto: 'udp', sport: 53, dport: 40000}))).ok, true)
  assert.equal(either(ctx(packet({proto: 'udp', sport: 40000, dport: 443}))).ok, true)
  const r = either(ctx(packet({proto: 'udp', sport: 1, dport: 2})))
  assert.equal(r.ok, false)
  assert.match(r.why, /neither sport nor dport of 1 -> 2 is in 53,443/)
})

test('multiport: 15 slots with ranges counting twice; ranges need both ends; needs a port protocol', () => {
  assert.doesNotThrow(() => matcher(multiport, ['--sports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15'], TCP))
  assert.throws(() => matcher(multiport, ['--sports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16'], TCP), /too many ports/)
  assert.throws(() => matcher(multiport, ['--sports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16'], TCP), /too many ports/)
  assert.throws(() => matcher(multiport, ['--dports :9'], TCP), /invalid port range/)
  assert.throws(() => matcher(multiport, ['--dports 80'], {}), /multiport needs -p/)
  assert.throws(() => matcher(multiport, ['--dports 80', '--sports 80'], TCP), /exactly one/)
})
