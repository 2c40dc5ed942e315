import {test} from 'node:test'
import assert from 'node:assert/strict'
import {acceptTarget} from '../../src/targets/accept.ts'
import {dropTarget} from '../../src/targets/drop.ts'
import {returnTarget} from '../../src/targets/return.ts'
import {logTarget} from '../../src/targets/log.ts'
import {nflogTarget} from '../../src/targets/nflog.ts'
import {traceTarget} from '../../src/targets/trace.ts'
import {ctTarget} from '../../src/targets/ct.ts'
import {notrackTarget} from '../../src/targets/notrack.ts'
import {nfqueueTarget} from '../../src/targets/nfqueue.ts'
import {OptionError} from '../../src/matches/types.ts'
import {ctx, packet} from '../helpers/context.ts'
import {opts, savedSpec} from './saved.ts'

const V4 = 'iptables-save.txt'
const raw = {hook: 'PREROUTING' as const, table: 'raw'}

test('ACCEPT, DROP, RETURN: verdicts, no options', () => {
  assert.equal(acceptTarget.apply(savedSpec(acceptTarget, V4, '-j ACCEPT'), ctx(packet())).verdict, 'ACCEPT')
  assert.equal(dropTarget.apply(savedSpec(dropTarget, V4, '-j DROP'), ctx(packet())).verdict, 'DROP')
  assert.equal(returnTarget.apply(savedSpec(returnTarget, V4, '-j RETURN'), ctx(packet())).verdict, 'RETURN')
  assert.throws(() => acceptTarget.parse(opts('--foo'), {family: 4, table: 'filter', chain: 'INPUT'}), OptionError)
})

test('LOG: default level 4 omitted by iptables-save; the line follows the kernel format', () => {
  const plain = savedSpec(logTarget, V4, '--dport 12 -j LOG')
  assert.equal(plain.level, 4)
  const r = logTarget.apply(plain, ctx(packet({tos: 0x10, mark: 0x40})))
  assert.equal(r.verdict, 'CONTINUE')
  assert.equal(r.effects[0]!.kind, 'log')
  assert.equal(r.effects[0]!.text,
    'LOG (level 4 warning): IN=eth0 OUT= MAC=? SRC=10.0.0.1 DST=10.0.0.2 LEN=60 TOS=0x10 PREC=0x00 TTL=64 ID=? PROTO=TCP SPT=40000 DPT=80 WINDOW=? RES=0x00 SYN URGP=0 MARK=0x40')
  const full = savedSpec(logTarget, V4, '--dport 13 -j LOG')
  assert.deepEqual(full, {level: 4, prefix: 'drop: ', tcpSequence: true, tcpOptions: true, ipOptions: true, uid: true, macDecode: true})
  assert.match(logTarget.apply(full, ctx(packet())).effects[0]!.text, /^LOG \(level 4 warning\): drop: IN=eth0 OUT= MACSRC=\? .* SEQ=\? ACK=\? /)
  assert.equal(savedSpec(logTarget, V4, '--dport 14 -j LOG').level, 7)
  assert.deepEqual(savedSpec(logTarget, V4, '--dport 23 -j LOG').prefix, 'x"y ')
  assert.equal(logTarget.parse(opts('--log-level', 'debug'), {family: 4, table: 'filter', chain: 'INPUT'}).level, 7)
})

test('LOG IPv6 and UDP lines', () => {
  const spec = savedSpec(logTarget, 'ip6tables-save.txt', '-j LOG')
  assert.equal(spec.level, 6)
  const t = logTarget.apply(spec, ctx(packet({family: 6, proto: 'udp', length: 100}))).effects[0]!.text
  assert.equal(t, 'LOG (level 6 info): v6 IN=eth0 OUT= MAC=? SRC=2001:db8::1 DST=2001:db8::2 LEN=100 TC=0 HOPLIMIT=64 FLOWLBL=? PROTO=UDP SPT=40000 DPT=53 LEN=60')
})

test('NFLOG: group, prefix, threshold; --nflog-size', () => {
  const spec = savedSpec(nflogTarget, V4, '--dport 16 -j NFLOG')
  assert.deepEqual(spec, {group: 5, prefix: 'hello world', threshold: 2})
  const r = nflogTarget.apply(spec, ctx(packet()))
  assert.equal(r.verdict, 'CONTINUE')
  assert.equal(r.effects[0]!.text, 'NFLOG: a copy goes to nflog group 5 with prefix "hello world" (batched by 2); the packet continues')
  assert.deepEqual(savedSpec(nflogTarget, V4, '--dport 17 -j NFLOG'), {group: 0, prefix: '', size: 128})
  assert.deepEqual(savedSpec(nflogTarget, V4, '--dport 15 -j NFLOG'), {group: 0, prefix: ''})
})

test('TRACE is a log effect and continues', () => {
  const r = traceTarget.apply(savedSpec(traceTarget, V4, '-j TRACE'), ctx(packet(), raw))
  assert.equal(r.verdict, 'CONTINUE')
  assert.equal(r.effects[0]!.kind, 'log')
})

test('CT --notrack and NOTRACK give a notrack template', () => {
  for (const r of [ctTarget.apply(savedSpec(ctTarget, V4, '--dport 1 -j CT'), ctx(packet(), raw)), notrackTarget.apply(savedSpec(notrackTarget, V4, '-j NOTRACK'), ctx(packet(), raw))]) {
    assert.equal(r.verdict, 'CONTINUE')
    assert.equal(r.effects.length, 1)
    assert.deepEqual({kind: r.effects[0]!.kind, notrack: (r.effects[0] as {notrack?: boolean}).notrack}, {kind: 'ct', notrack: true})
  }
})

test('CT zones (number, mark, directional) and helper', () => {
  const z = ctTarget.apply(savedSpec(ctTarget, V4, '--dport 2 -j CT'), ctx(packet(), raw)).effects[0]!
  assert.deepEqual(z, {kind: 'ct', zone: 5, text: 'CT: the connection gets zone 5'})
  const zm = ctTarget.apply(savedSpec(ctTarget, V4, '--dport 10 -j CT'), ctx(packet({mark: 0x12345}), raw)).effects[0]!
  assert.deepEqual(zm, {kind: 'ct', zone: 0x2345, text: 'CT: the connection gets zone 9029 (from mark 0x12345) for the original direction only'})
  const h = ctTarget.apply(savedSpec(ctTarget, V4, '--dport 3 -j CT'), ctx(packet(), raw)).effects[0]!
  assert.deepEqual(h, {kind: 'ct', helper: 'ftp', text: 'CT: the connection gets helper ftp'})
  assert.deepEqual(savedSpec(ctTarget, V4, '--dport 4 -j CT'), {notrack: false, ctevents: 'new,related', expevents: 'new'})
  assert.throws(() => ctTarget.parse(opts('--zone', '1', '--zone-orig', '2'), {family: 4, table: 'raw', chain: 'X'}), OptionError)
})

test('CT outside raw: note that the kernel refuses it', () => {
  const r = ctTarget.apply({notrack: true}, ctx(packet(), {hook: 'PREROUTING', table: 'mangle'}))
  assert.equal(r.effects[0]!.kind, 'note')
  assert.match(r.effects[0]!.text, /only valid in the raw table \(here: mangle\)/)
})

test('NFQUEUE: QUEUE verdict; the userspace verdict is unknown; bypass accepts with no listener', () => {
  const one = savedSpec(nfqueueTarget, V4, '--dport 18 -j NFQUEUE')
  assert.deepEqual(one, {first: 3, last: 3, bypass: false, cpuFanout: false})
  const r = nfqueueTarget.apply(one, ctx(packet()))
  assert.equal(r.verdict, 'QUEUE')
  assert.match(r.effects[0]!.text, /userspace queue 3; the program's verdict is unknown .* dropped if no program listens/)
  const bal = savedSpec(nfqueueTarget, V4, '--dport 19 -j NFQUEUE')
  assert.deepEqual(bal, {first: 0, last: 3, bypass: true, cpuFanout: true})
  assert.match(nfqueueTarget.apply(bal, ctx(packet())).effects[0]!.text, /one of queues 0-3 \(chosen by the CPU .*accepted if no program listens/)
  assert.deepEqual(savedSpec(nfqueueTarget, V4, '--dport 21 -j NFQUEUE'), {first: 0, last: 0, bypass: false, cpuFanout: false})
  assert.throws(() => nfqueueTarget.parse(opts('--queue-num', '70000'), {family: 4, table: 'filter', chain: 'X'}), OptionError)
  assert.throws(() => nfqueueTarget.parse(opts('--fail-open'), {family: 4, table: 'filter', chain: 'X'}), OptionError)
})
