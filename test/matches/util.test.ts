import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseRange, rangeSentence} from '../../src/matches/util/range.ts'
import {inPortList, parsePortList, parsePortRange} from '../../src/matches/util/ports.ts'
import {ifaceMatches, parseIface} from '../../src/matches/util/iface.ts'
import {parseProto} from '../../src/matches/util/proto.ts'
import {optionTable, required} from '../../src/matches/util/options.ts'
import {parseValueMask, maskedText} from '../../src/matches/util/numbers.ts'
import {withNegation} from '../../src/matches/util/negate.ts'
import {opt} from '../helpers/opts.ts'
import {OptionError} from '../../src/matches/types.ts'

test('ranges: a, a:b, :b, a:; reversed only where allowed', () => {
  assert.deepEqual(parsePortRange('80'), {lo: 80, hi: 80})
  assert.deepEqual(parsePortRange(':1023'), {lo: 0, hi: 1023})
  assert.deepEqual(parsePortRange('1024:'), {lo: 1024, hi: 65535})
  assert.throws(() => parsePortRange('90:80'), /min > max/)
  assert.deepEqual(parseRange('90:80', 65535, 'length', {reversed: true}), {lo: 90, hi: 80})
  assert.equal(rangeSentence('dport', 443, {lo: 80, hi: 90}, false), 'dport 443 is not in 80:90')
})

test('port lists: ranges, membership', () => {
  const l = parsePortList('22,80:90')
  assert.equal(inPortList(l, 85), true)
  assert.equal(inPortList(l, 23), false)
})

test('interface patterns: exact, prefix, any; no device is the empty name', () => {
  assert.equal(ifaceMatches(parseIface('eth0'), 'eth0'), true)
  assert.equal(ifaceMatches(parseIface('eth0'), 'eth00'), false)
  assert.equal(ifaceMatches(parseIface('eth+'), 'eth0'), true)
  assert.equal(ifaceMatches(parseIface('eth+'), undefined), false)
  assert.equal(ifaceMatches(parseIface('+'), undefined), true)
})

test('protocols: names, numbers, all', () => {
  assert.equal(parseProto('all'), 0)
  assert.equal(parseProto('SCTP'), 132)
  assert.equal(parseProto('ipv6-icmp'), 58)
  assert.throws(() => parseProto('256'), /invalid protocol/)
})

test('option tables: aliases, unknown, repeated, arity', () => {
  const t = optionTable({dport: 1, syn: 0}, {'destination-port': 'dport'})
  assert.equal(t.read([opt('--destination-port 80')]).get('dport')!.values[0], '80')
  assert.throws(() => t.read([opt('--nope 1')]), /unknown option/)
  assert.throws(() => t.read([opt('--dport 1'), opt('--dport 2')]), /only one/)
  assert.throws(() => t.read([opt('--syn 1')]), /expects 0 values/)
  // A missing required option is named by its canonical spelling, whichever alias the table accepts.
  assert.equal(required(t.read([opt('--destination-port 80')]), 'dport').text, '--destination-port 80')
  assert.throws(() => required(t.read([opt('--syn')]), 'dport'), (e) => e instanceof OptionError && e.message === '--dport is required')
})

test('value/mask and its explanation', () => {
  const vm = parseValueMask('0x4000/0xc000', 'mark')
  assert.deepEqual(vm, {value: 0x4000, mask: 0xc000})
  assert.equal(maskedText('mark', 0x4000, vm, true), 'mark 0x4000 & 0xc000 = 0x4000 equals 0x4000')
  assert.deepEqual(parseValueMask('5', 'mark'), {value: 5, mask: 0xffffffff})
  assert.throws(() => parseValueMask('0x1ffffffff', 'mark'), /out of range/)
})

test('negation wording', () => {
  assert.equal(withNegation('dport 80 is 80', true, false, '! --dport 80'), 'dport 80 is 80, but the rule says ! --dport 80')
  assert.equal(withNegation('dport 81 is not 80', true, true, '! --dport 80'), 'dport 81 is not 80, as ! --dport 80 requires')
})
