import {test} from 'node:test'
import assert from 'node:assert/strict'
import {rejectTarget} from '../../src/targets/reject.ts'
import {OptionError} from '../../src/matches/types.ts'
import type {Effect} from '../../src/targets/types.ts'
import {ctx, packet} from '../helpers/context.ts'
import {opts, savedSpec} from './saved.ts'

const reject = (e: Effect[]) => e.find((x) => x.kind === 'reject') as Extract<Effect, {kind: 'reject'}>

test('REJECT without --reject-with is saved as icmp-port-unreachable and sends ICMP 3/3', () => {
  const spec = savedSpec(rejectTarget, 'iptables-save.txt', '--dport 3 -j REJECT')
  assert.deepEqual(spec, {with: 'icmp-port-unreachable'})
  const r = rejectTarget.apply(spec, ctx(packet({src: '10.9.9.9'})))
  assert.equal(r.verdict, 'REJECT')
  assert.equal(r.effects.length, 1)
  assert.equal(reject(r.effects).text, 'REJECT icmp-port-unreachable: sends an ICMP port unreachable (type 3 code 3) to 10.9.9.9, then drops the packet')
})

test('REJECT IPv4 types map to their ICMP codes; aliases give the canonical name', () => {
  const codes: [string, string][] = [
    ['--dport 5 -j REJECT', 'type 3 code 0'], ['--dport 6 -j REJECT', 'type 3 code 1'], ['--dport 7 -j REJECT', 'type 3 code 2'],
    ['--dport 8 -j REJECT', 'type 3 code 9'], ['--dport 9 -j REJECT', 'type 3 code 10'], ['--dport 10 -j REJECT', 'type 3 code 13'],
  ]
  for (const [needle, code] of codes) {
    const spec = savedSpec(rejectTarget, 'iptables-save.txt', needle)
    assert.ok(reject(rejectTarget.apply(spec, ctx(packet())).effects).text.includes(code), `${needle}: ${code}`)
  }
  const pc = {family: 4 as const, table: 'filter', chain: 'INPUT', proto: 6}
  assert.deepEqual(rejectTarget.parse(opts('--reject-with', 'admin-prohib'), pc), {with: 'icmp-admin-prohibited'})
  assert.deepEqual(rejectTarget.parse(opts('--reject-with', 'tcp-rst'), pc), {with: 'tcp-reset'})
  assert.throws(() => rejectTarget.parse(opts('--reject-with', 'icmp6-no-route'), pc), OptionError)
})

test('REJECT IPv6 types (saved forms) and the IPv6 default', () => {
  const f = 'ip6tables-save.txt'
  assert.deepEqual(savedSpec(rejectTarget, f, '--dport 1 -j REJECT'), {with: 'icmp6-port-unreachable'})
  const expect: [string, string][] = [
    ['--dport 2 -j REJECT', 'icmp6-no-route'], ['--dport 3 -j REJECT', 'icmp6-adm-prohibited'], ['--dport 4 -j REJECT', 'icmp6-addr-unreachable'],
    ['--dport 5 -j REJECT', 'icmp6-port-unreachable'], ['--dport 7 -j REJECT', 'icmp6-policy-fail'], ['--dport 8 -j REJECT', 'icmp6-reject-route'],
  ]
  for (const [needle, name] of expect) assert.equal(savedSpec(rejectTarget, f, needle).with, name)
  const pc = {family: 6 as const, table: 'filter', chain: 'INPUT', proto: 6}
  assert.deepEqual(rejectTarget.parse(opts('--reject-with', 'addr-unreach'), pc), {with: 'icmp6-addr-unreachable'})
  assert.throws(() => rejectTarget.parse(opts('--reject-with', 'icmp-host-prohibited'), pc), OptionError)
  const text = reject(rejectTarget.apply({with: 'icmp6-adm-prohibited'}, ctx(packet({family: 6}))).effects).text
  assert.match(text, /ICMPv6 administratively prohibited \(type 1 code 1\) to 2001:db8::1/)
})

test('REJECT tcp-reset sends a RST, needs -p tcp, and is not sent in reply to a RST', () => {
  const spec = savedSpec(rejectTarget, 'iptables-save.txt', '--dport 4 -j REJECT')
  assert.deepEqual(spec, {with: 'tcp-reset'})
  assert.match(reject(rejectTarget.apply(spec, ctx(packet())).effects).text, /sends a TCP RST to 10\.0\.0\.1 port 40000/)
  const r = rejectTarget.apply(spec, ctx(packet({tcpFlags: 0x04})))
  assert.equal(r.verdict, 'REJECT')
  assert.match(reject(r.effects).text, /no reply is sent \(the packet is itself a RST\)/)
  assert.throws(() => rejectTarget.parse(opts('--reject-with', 'tcp-reset'), {family: 4, table: 'filter', chain: 'INPUT'}), /-p tcp/)
})

test('REJECT sends no ICMP error about an ICMP error or a broadcast', () => {
  const spec = {with: 'icmp-port-unreachable'}
  assert.match(reject(rejectTarget.apply(spec, ctx(packet({proto: 'icmp', icmpType: 3, icmpCode: 1}))).effects).text, /no reply is sent \(the packet is an ICMP error/)
  assert.match(reject(rejectTarget.apply(spec, ctx(packet({proto: 'icmp', icmpType: 8, icmpCode: 0}))).effects).text, /sends an ICMP port unreachable/)
  assert.match(reject(rejectTarget.apply(spec, ctx(packet({pktType: 'broadcast'}))).effects).text, /no reply is sent \(the packet was broadcast\)/)
})

test('REJECT outside filter INPUT/FORWARD/OUTPUT adds a note (the kernel refuses it)', () => {
  const r = rejectTarget.apply({with: 'icmp-port-unreachable'}, ctx(packet(), {hook: 'PREROUTING', table: 'mangle'}))
  assert.equal(r.effects[0]!.kind, 'note')
  assert.match(r.effects[0]!.text, /only valid in the filter table \(here: mangle\) and only valid at INPUT\/FORWARD\/OUTPUT/)
  assert.equal(rejectTarget.apply({with: 'icmp-port-unreachable'}, ctx(packet(), {hook: 'FORWARD'})).effects.length, 1)
})
