import {test} from 'node:test'
import assert from 'node:assert/strict'
import {icmp} from '../../src/matches/icmp.ts'
import {icmp6} from '../../src/matches/icmp6.ts'
import {ctx, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'

const V4 = {proto: 1}
const V6 = {family: 6 as const, proto: 58}
const ping = (type: number, code = 0) => ctx(packet({proto: 'icmp', icmpType: type, icmpCode: code}))
const ping6 = (type: number, code = 0) => ctx(packet({family: 6, proto: 'icmpv6', icmpType: type, icmpCode: code}))

test('icmp --icmp-type by name covers all codes of the type; explanation names both', () => {
  const m = matcher(icmp, ['--icmp-type echo-request'], V4)
  assert.equal(m(ping(8)).ok, true)
  const r = m(ping(0))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'icmp type 0 code 0 is not echo-request (type 8)')
})

test('icmp --icmp-type type/code and sub-type names (port-unreachable = 3/3)', () => {
  assert.equal(matcher(icmp, ['--icmp-type 3/1'], V4)(ping(3, 1)).ok, true)
  assert.equal(matcher(icmp, ['--icmp-type 3/1'], V4)(ping(3, 3)).ok, false)
  const pu = matcher(icmp, ['--icmp-type port-unreachable'], V4)
  assert.equal(pu(ping(3, 3)).ok, true)
  assert.equal(pu(ping(3, 1)).ok, false)
  assert.equal(matcher(icmp, ['--icmp-type 3'], V4)(ping(3, 13)).ok, true, 'a bare type takes codes 0-255')
})

test('icmp ! --icmp-type and `any`', () => {
  assert.equal(matcher(icmp, ['! --icmp-type 3/3'], V4)(ping(8)).ok, true)
  assert.equal(matcher(icmp, ['! --icmp-type 3/3'], V4)(ping(3, 3)).ok, false)
  assert.equal(matcher(icmp, ['--icmp-type any'], V4)(ping(42, 7)).ok, true)
  assert.equal(matcher(icmp, ['! --icmp-type any'], V4)(ping(42, 7)).ok, false)
})

test('icmp names: case-insensitive, unique prefixes accepted, ambiguous ones refused (libxt_icmp)', () => {
  assert.equal(matcher(icmp, ['--icmp-type ECHO-REQUEST'], V4)(ping(8)).ok, true)
  assert.equal(matcher(icmp, ['--icmp-type echo-req'], V4)(ping(8)).ok, true)
  assert.throws(() => matcher(icmp, ['--icmp-type echo-r'], V4), /ambiguous/)
  assert.throws(() => matcher(icmp, ['--icmp-type 256'], V4), /out of range/)
})

test('icmp does not match a non-first fragment', () => {
  assert.equal(matcher(icmp, ['--icmp-type any'], V4)(ctx(packet({proto: 'icmp', icmpType: 8, icmpCode: 0, fragment: true}))).ok, false)
})

test('icmp is IPv4 with -p icmp only', () => {
  assert.throws(() => matcher(icmp, ['--icmp-type 8'], {proto: 6}), /needs -p icmp/)
  assert.throws(() => matcher(icmp, ['--icmp-type 8'], {family: 6, proto: 1}), /IPv4 match/)
})

test('icmp6 --icmpv6-type by name (both spellings of neighbour) and number', () => {
  assert.equal(matcher(icmp6, ['--icmpv6-type neighbour-solicitation'], V6)(ping6(135)).ok, true)
  assert.equal(matcher(icmp6, ['--icmpv6-type neighbor-solicitation'], V6)(ping6(135)).ok, true)
  assert.equal(matcher(icmp6, ['--icmpv6-type 128'], V6)(ping6(128)).ok, true)
  const r = matcher(icmp6, ['--icmpv6-type echo-request'], V6)(ping6(129))
  assert.equal(r.ok, false)
  assert.equal(r.why, 'icmp6 type 129 code 0 is not echo-request (type 128)')
})

test('icmp6 ! type/code; no `any` for IPv6', () => {
  assert.equal(matcher(icmp6, ['! --icmpv6-type 1/3'], V6)(ping6(1, 4)).ok, true)
  assert.equal(matcher(icmp6, ['! --icmpv6-type 1/3'], V6)(ping6(1, 3)).ok, false)
  assert.equal(matcher(icmp6, ['--icmpv6-type port-unreachable'], V6)(ping6(1, 4)).ok, true)
  assert.throws(() => matcher(icmp6, ['--icmpv6-type any'], V6), /not a number/)
})
