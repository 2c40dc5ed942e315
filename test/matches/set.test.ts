import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {parseIpsetSave} from '../../src/parse/ipset-save.ts'
import {set} from '../../src/matches/set.ts'
import {setTarget} from '../../src/targets/set.ts'
import {ctx, packet} from '../helpers/context.ts'
import {matcher, opt} from '../helpers/opts.ts'

const FILE = 'test/fixtures/ipset/real-v7.17.txt'
const sets = Object.fromEntries(parseIpsetSave(readFileSync(FILE, 'utf8'), FILE).sets)

test('set: membership with the rule directions; ! on either side of --match-set inverts', () => {
  const hairpin = ctx(packet({src: '10.244.1.5', dst: '10.244.1.5', dport: 8080}), {sets})
  const m = matcher(set, ['--match-set KUBE-LOOP-BACK dst,dst,src'])
  const r = m(hairpin)
  assert.equal(r.ok, true)
  assert.match(r.why, /10\.244\.1\.5,tcp:8080,10\.244\.1\.5 \(dst,dst,src\) is in KUBE-LOOP-BACK/)
  assert.equal(matcher(set, ['! --match-set KUBE-LOOP-BACK dst,dst,src'])(hairpin).ok, false)
  const old = {name: 'match-set', values: ['KUBE-LOOP-BACK', 'dst,dst,src'], negated: true, text: '--match-set ! KUBE-LOOP-BACK dst,dst,src'}
  assert.equal(matcher(set, [old])(hairpin).ok, false)
  const other = ctx(packet({src: '10.244.1.6', dst: '10.244.1.5', dport: 8080}), {sets})
  const neg = matcher(set, ['! --match-set KUBE-LOOP-BACK dst,dst,src'])(other)
  assert.equal(neg.ok, true)
  assert.match(neg.why, /is not in KUBE-LOOP-BACK.*as ! --match-set KUBE-LOOP-BACK dst,dst,src requires/)
})

test('set: a set missing from the snapshot is an assumed no-match', () => {
  for (const o of ['--match-set NOPE src', '! --match-set NOPE src']) {
    const r = matcher(set, [o])(ctx(packet({}), {sets}))
    assert.equal(r.ok, false)
    assert.match(r.assumed!, /set NOPE not in snapshot/)
  }
})

test('set: --return-nomatch turns a nomatch hit into a match', () => {
  const c = ctx(packet({src: '10.1.7.7'}), {sets})
  assert.equal(matcher(set, ['--match-set n4 src'])(c).ok, false)
  assert.equal(matcher(set, ['--match-set n4 src', '--return-nomatch'])(c).ok, true)
  assert.throws(() => matcher(set, ['--match-set n4 src', '! --return-nomatch']), /cannot be negated/)
})

test('set: counter conditions use the element counters from the save file, before !', () => {
  const c = ctx(packet({src: '10.0.0.5'}), {sets}) // h4: packets 3 bytes 180
  assert.equal(matcher(set, ['--match-set h4 src', '--packets-gt 2'])(c).ok, true)
  assert.equal(matcher(set, ['--match-set h4 src', '--packets-lt 3'])(c).ok, false)
  assert.equal(matcher(set, ['--match-set h4 src', '! --packets-eq 3'])(c).ok, false)
  assert.equal(matcher(set, ['--match-set h4 src', '--bytes-eq 180'])(c).ok, true)
  const r = matcher(set, ['! --match-set h4 src', '--bytes-gt 180'])(c)
  assert.equal(r.ok, true, 'a counter failure makes the element count as absent, then ! inverts')
  assert.match(r.why, /element bytes 180 fails > 180/)
  assert.throws(() => matcher(set, ['--match-set h4 src', '! --packets-gt 1']), /cannot be negated/)
  // ipp has no counters: the kernel skips the conditions.
  const p = ctx(packet({dst: '10.96.0.10', dport: 53}), {sets})
  const skip = matcher(set, ['--match-set ipp dst,dst', '--packets-gt 100'])(p)
  assert.equal(skip.ok, true)
  assert.match(skip.why, /no counters/)
  assert.equal(matcher(set, ['--match-set h4 src', '! --update-counters', '! --update-subcounters'])(c).ok, true)
})

test('SET target: effect names the set, op and directions; verdict CONTINUE', () => {
  const spec = setTarget.parse([opt('--add-set h4 src'), opt('--exist'), opt('--timeout 30')], {family: 4, table: 'filter', chain: 'INPUT'})
  const r = setTarget.apply(spec, ctx(packet({src: '10.9.9.9'}), {sets}))
  assert.equal(r.verdict, 'CONTINUE')
  assert.equal(r.effects.length, 1)
  const e = r.effects[0]!
  assert.equal(e.kind, 'set')
  if (e.kind !== 'set') return
  assert.deepEqual([e.op, e.set, e.dirs], ['add', 'h4', ['src']])
  assert.match(e.text, /adds 10\.9\.9\.9 \(timeout 30s, --exist\)/)
  const del = setTarget.apply(setTarget.parse([opt('--del-set n4 dst')], {family: 4, table: 'filter', chain: 'INPUT'}), ctx(packet({}), {sets}))
  assert.match(del.effects[0]!.text, /would delete 10\.0\.0\.2/)
  const missing = setTarget.apply(setTarget.parse([opt('--add-set NOPE src')], {family: 4, table: 'filter', chain: 'INPUT'}), ctx(packet({}), {sets}))
  assert.equal(missing.effects[0]!.kind, 'note')
  assert.throws(() => setTarget.parse([opt('--timeout 5')], {family: 4, table: 'filter', chain: 'INPUT'}), /needs --add-set/)
})
