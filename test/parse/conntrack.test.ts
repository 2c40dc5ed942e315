import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {parseConntrack, parseConntrackLine} from '../../src/parse/conntrack.ts'
import {CT_STATUS} from '../../src/engine/state.ts'

const FX = new URL('../fixtures/snapshot/netns-basic/', import.meta.url)
const read = (f: string) => readFileSync(new URL(f, FX), 'utf8')
const has = (status: number, bit: number) => (status & bit) !== 0

for (const file of ['conntrack.txt', 'nf_conntrack.txt']) {
  test(`${file}: every real entry parses, with tuples, state, timeout, mark and zone`, () => {
    const {entries, diagnostics} = parseConntrack(read(file), file)
    assert.deepEqual(diagnostics, [])
    assert.equal(entries.length, 10)
    const est = entries.find((e) => e.protoState === 'ESTABLISHED')!
    assert.equal(est.proto, 6)
    assert.equal(est.timeout, 431998)
    assert.equal(est.origin, `${file}:${read(file).split('\n').findIndex((l) => l.includes('ESTABLISHED')) + 1}`)
    const zoned = entries.find((e) => e.orig.dport === 5353)!
    assert.equal(zoned.zone, 5)
    const marked = entries.filter((e) => e.mark === 42)
    assert.equal(marked.length, 3, 'CONNMARK --set-mark 0x2a shows as mark=42')
  })
}

test('a DNAT+MASQUERADE entry: reply tuple differs from the inverted original; ASSURED and SEEN_REPLY set', () => {
  const {entries} = parseConntrack(read('conntrack.txt'), 'conntrack.txt')
  const e = entries.find((x) => x.orig.dport === 8080)!
  assert.deepEqual([e.orig.src.text, e.orig.dst.text, e.orig.sport === e.reply.dport], ['192.168.10.100', '192.168.10.1', true])
  assert.deepEqual([e.reply.src.text, e.reply.sport, e.reply.dst.text], ['10.20.0.2', 80, '10.20.0.1'])
  for (const bit of [CT_STATUS.DST_NAT, CT_STATUS.SRC_NAT, CT_STATUS.ASSURED, CT_STATUS.SEEN_REPLY, CT_STATUS.CONFIRMED]) assert.ok(has(e.status, bit), `bit ${bit}`)
  assert.equal(e.protoState, 'TIME_WAIT')
})

test('[UNREPLIED] clears SEEN_REPLY; an un-NATed entry has no NAT bits', () => {
  const {entries} = parseConntrack(read('conntrack.txt'), 'conntrack.txt')
  const e = entries.find((x) => x.orig.dport === 9999)!
  assert.ok(!has(e.status, CT_STATUS.SEEN_REPLY))
  assert.ok(!has(e.status, CT_STATUS.ASSURED))
  assert.equal(e.status & (CT_STATUS.SRC_NAT | CT_STATUS.DST_NAT), 0)
})

test('ICMP: id is the port-like key, type/code the other; echo→reply is not NAT, masquerade is', () => {
  const {entries} = parseConntrack(read('conntrack.txt'), 'conntrack.txt')
  const local = entries.find((x) => x.proto === 1 && x.orig.dst.text === '192.168.10.1')!
  assert.equal(local.orig.dport, 8 << 8)
  assert.equal(local.reply.dport, 0)
  assert.equal(local.orig.sport, local.reply.sport)
  assert.equal(local.status & (CT_STATUS.SRC_NAT | CT_STATUS.DST_NAT), 0)
  const fwd = entries.find((x) => x.proto === 1 && x.orig.dst.text === '10.20.0.2')!
  assert.ok(has(fwd.status, CT_STATUS.SRC_NAT))
  assert.ok(!has(fwd.status, CT_STATUS.DST_NAT))
})

test('IPv6 entries, unabbreviated /proc addresses, [OFFLOAD] and the short `conntrack -L` form', () => {
  const v6 = parseConntrackLine('ipv6     10 tcp      6 86390 ESTABLISHED src=fd00:0010:0000:0000:0000:0000:0000:0100 dst=fd00:0020:0000:0000:0000:0000:0000:0002 sport=4000 dport=80 src=fd00:0020:0000:0000:0000:0000:0000:0002 dst=fd00:0010:0000:0000:0000:0000:0000:0100 sport=80 dport=4000 [OFFLOAD] mark=0 zone=0 use=2', 'x:1')
  assert.equal(v6.family, 6)
  assert.equal(v6.orig.src.text, 'fd00:10::100')
  assert.ok(has(v6.status, CT_STATUS.OFFLOAD))
  assert.equal(v6.status & (CT_STATUS.SRC_NAT | CT_STATUS.DST_NAT), 0)
  const short = parseConntrackLine('udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=1 mark=7 use=1', 'x:2')
  assert.deepEqual([short.family, short.proto, short.timeout, short.mark, short.zone, short.protoState], [4, 17, 29, 7, 0, undefined])
})

test('an unreadable line is a warning with file:line; the other lines load', () => {
  const {entries, diagnostics} = parseConntrack('garbage here\nudp 17 29 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=1 mark=0 use=1\n', 'conntrack.txt')
  assert.equal(entries.length, 1)
  assert.equal(diagnostics.length, 1)
  assert.deepEqual([diagnostics[0].file, diagnostics[0].line, diagnostics[0].severity], ['conntrack.txt', 1, 'warning'])
})
