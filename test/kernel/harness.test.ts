/**
 * The kernel-differential harness's own logic, without root: reading `nft monitor trace` lines (captured on Linux
 * 6.18 / nft 1.0.6), reducing engine outcomes, diffing, and generator determinism.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {kernelTrace, parseTraceLine, type TraceLine} from './oracle.ts'
import {diffTraces, fromEngine, type KernelVerdictTrace} from './verdict-trace.ts'
import {generateCase} from './generator.ts'
import type {Outcome} from '../../src/engine/api.ts'
import type {PacketState} from '../../src/engine/state.ts'

function lines(text: string): TraceLine[] {
  return text.trim().split('\n').map((l) => parseTraceLine(l.trim())!)
}

// Real lines: a UDP packet to the node jumping INPUT → X → Y (Y runs off its end silently), explicit RETURN in X.
const LOCAL = lines(`
  trace id 17fb62fe inet nfk_trace pre packet: iif "nc0" ip saddr 10.99.1.2 ip daddr 10.99.1.1 ip id 2957 ip protocol udp
  trace id 17fb62fe inet nfk_trace pre policy accept
  trace id 17fb62fe ip mangle PREROUTING rule counter packets 0 bytes 0 meta mark set mark and 0xffffff00 xor 0x7 # handle 6 (verdict continue)
  trace id 17fb62fe ip mangle PREROUTING policy accept meta mark 0x00000007
  trace id 17fb62fe ip filter INPUT rule meta l4proto udp counter packets 0 bytes 0 jump X # handle 7 (verdict jump X)
  trace id 17fb62fe ip filter X rule counter packets 0 bytes 0 jump Y # handle 10 (verdict jump Y)
  trace id 17fb62fe ip filter X rule counter packets 0 bytes 0 return # handle 11 (verdict return)
  trace id 17fb62fe ip filter INPUT rule meta l4proto udp counter packets 0 bytes 0 meta mark set mark or 0x10 # handle 8 (verdict continue)
  trace id 17fb62fe ip filter INPUT policy accept meta mark 0x00000017
  trace id 17fb62fe inet nfk_trace in_end packet: iif "nc0" ip saddr 10.99.1.2 ip daddr 10.99.1.1 ip id 2957
  trace id 17fb62fe inet nfk_trace in_end policy accept meta mark 0x00000017
`)
const POS = new Map([['ip mangle PREROUTING 6', 1], ['ip filter INPUT 7', 2], ['ip filter INPUT 8', 3], ['ip filter X 10', 2], ['ip filter X 11', 3]])

test('kernel trace: rules by position, jumps with their chain, explicit RETURN, policies, final mark from the end probe', () => {
  const k = kernelTrace('p', false, LOCAL, POS)
  assert.deepEqual(k.events.map((e) => `${e.table}:${e.chain}#${e.index ?? '-'} ${e.kind} ${e.verdict}`), [
    'mangle:PREROUTING#1 rule CONTINUE',
    'mangle:PREROUTING#- policy ACCEPT',
    'filter:INPUT#2 rule JUMP X',
    'filter:X#2 rule JUMP Y',
    'filter:X#3 rule RETURN',
    'filter:INPUT#3 rule CONTINUE',
    'filter:INPUT#- policy ACCEPT',
  ])
  assert.equal(k.disposition, 'local')
  assert.equal(k.finalMark, 0x17)
  assert.equal(k.oif, null)
  assert.equal(k.vanished, false)
})

test('kernel trace: REJECT shows as verdict drop with reject in the rule text, and is reported as reject', () => {
  const k = kernelTrace('p', false, lines(`
    trace id 2b323c80 inet nfk_trace pre packet: iif "nc0" ip saddr 10.99.1.2 ip daddr 10.99.1.1 ip id 29656
    trace id 2b323c80 ip filter INPUT rule meta l4proto tcp counter packets 0 bytes 0 reject with tcp reset # handle 6 (verdict drop)
  `), new Map([['ip filter INPUT 6', 1]]))
  assert.deepEqual(k.events, [{table: 'filter', chain: 'INPUT', index: 1, kind: 'rule', verdict: 'REJECT'}])
  assert.equal(k.disposition, 'reject')
})

test('kernel trace: a forwarded packet takes its output device from the postrouting end probe', () => {
  const k = kernelTrace('p', false, lines(`
    trace id c209b75f inet nfk_trace pre packet: iif "ns0" ip saddr 10.97.1.196 ip daddr 10.98.2.220 ip id 6
    trace id c209b75f ip filter FORWARD policy accept meta mark 0x00000100
    trace id c209b75f inet nfk_trace post_end packet: iif "ns0" oif "nc0" ip saddr 10.97.1.196 ip daddr 10.98.2.220 ip id 6
    trace id c209b75f inet nfk_trace post_end policy accept meta mark 0x00000100
  `), new Map())
  assert.equal(k.disposition, 'forward')
  assert.equal(k.oif, 'nc0')
  assert.equal(k.finalMark, 0x100)
})

test('kernel trace: no final event means the packet vanished, reported as a drop', () => {
  const k = kernelTrace('p', true, lines(`trace id 1 inet nfk_trace out packet: oif "ns0" ip saddr 10.99.2.1 ip daddr 10.97.0.1 ip id 3`), new Map())
  assert.equal(k.disposition, 'drop')
  assert.equal(k.vanished, true)
})

test('engine reduction keeps matched rules and policies only, naming the jump target', () => {
  const where = {family: 4 as const, hook: 'INPUT' as const, table: 'filter', chain: 'INPUT'}
  const rule = (index: number) => ({chain: 'INPUT', index, text: '', source: {file: '', line: 0}, matches: []})
  const steps = [
    {type: 'rule', rule: rule(1), matched: false, matches: [], verdict: 'CONTINUE', effects: [], ctx: {}, ...where},
    {type: 'rule', rule: rule(2), matched: true, matches: [], verdict: 'JUMP', target: 'X', effects: [], ctx: {}, ...where},
    {type: 'return', implicit: true, to: 'INPUT', ...where, chain: 'X'},
    {type: 'policy', verdict: 'DROP', ...where},
  ]
  const o = {disposition: 'drop', oif: null, final: {mark: 5} as PacketState, steps} as unknown as Outcome
  assert.deepEqual(fromEngine('p', o), {
    packetId: 'p',
    events: [{table: 'filter', chain: 'INPUT', index: 2, kind: 'rule', verdict: 'JUMP X'}, {table: 'filter', chain: 'INPUT', kind: 'policy', verdict: 'DROP'}],
    disposition: 'drop', oif: null, finalMark: 5,
  })
})

test('diff: the mark of a dropped packet is not compared, the output device of a forwarded one is', () => {
  const base: KernelVerdictTrace = {packetId: 'p', events: [], disposition: 'drop', oif: null, finalMark: 1}
  assert.deepEqual(diffTraces(base, {...base, finalMark: 2}), [])
  const fwd: KernelVerdictTrace = {...base, disposition: 'forward', oif: 'ns0'}
  assert.deepEqual(diffTraces(fwd, {...fwd, oif: 'nu0', finalMark: 2}), ['oif: kernel ns0 / engine nu0', 'final mark: kernel 0x1 / engine 0x2'])
})

test('generator: a seed always gives the same case, and options stay valid for the hooks that reach them', () => {
  assert.deepEqual(generateCase(7), generateCase(7))
  assert.notEqual(generateCase(7).iptables, generateCase(8).iptables)
  for (let seed = 1; seed <= 200; seed++) {
    for (const l of generateCase(seed).iptables.split('\n')) {
      // -i is refused in OUTPUT/POSTROUTING, -o in PREROUTING/INPUT (iptables' own check).
      if (/^-A (OUTPUT|POSTROUTING) /.test(l)) assert.doesNotMatch(l, / -i /, `seed ${seed}: ${l}`)
      if (/^-A (PREROUTING|INPUT) /.test(l)) assert.doesNotMatch(l, / -o /, `seed ${seed}: ${l}`)
    }
  }
})
