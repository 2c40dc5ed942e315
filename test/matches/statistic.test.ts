import {test} from 'node:test'
import assert from 'node:assert/strict'
import {statistic, probabilityThreshold} from '../../src/matches/statistic.ts'
import {ctx, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'
import type {World} from '../../src/engine/state.ts'

test('statistic random: the printed probability converts back to the integer threshold (lround(p * 2^31))', () => {
  assert.equal(probabilityThreshold(0.33333333349), 715827883)
  assert.equal(probabilityThreshold(0.3333333333), 715827883)
  assert.equal(probabilityThreshold(0.5), 1073741824)
  assert.equal(probabilityThreshold(0.20000000019), 429496730)
  assert.equal(probabilityThreshold(0.10000000009), 214748365)
  assert.equal(probabilityThreshold(1), 2 ** 31)
})

test('statistic random: asks the world for the exact fraction and inverts with !', () => {
  const spec = statistic.parse([{name: 'mode', values: ['random'], negated: false, text: '--mode random'}, {name: 'probability', values: ['0.50000000000'], negated: false, text: '--probability 0.50000000000'}], {family: 4, table: 'filter', chain: 'INPUT'})
  const asked: [number, number][] = []
  const c = ctx(packet({}))
  const world: World = {...c.world, choose: (_l, num, den) => (asked.push([num, den]), false)}
  const v = statistic.eval(spec, {...c, world})
  assert.deepEqual(asked, [[1073741824, 2 ** 31]])
  assert.equal(typeof v === 'object' && v.ok, false)
  const inv = matcher(statistic, ['--mode random', '! --probability 0.25'])
  assert.equal(inv(ctx(packet({}), {choices: [true]})).ok, false)
  const r = inv(ctx(packet({}), {choices: [false]}))
  assert.equal(r.ok, true)
  assert.match(r.why, /probability 0\.25000000000/)
})

test('statistic nth: --every 3 --packet 1 matches packets 2, 5, 8 (count starts at every-packet)', () => {
  const m = matcher(statistic, ['--mode nth', '--every 3', '--packet 1'])
  const c = ctx(packet({}))
  const seq = Array.from({length: 8}, () => m(c).ok)
  assert.deepEqual(seq, [false, true, false, false, true, false, false, true])
  const first = matcher(statistic, ['--mode nth', '--every 2', '--packet 0'])
  const c2 = ctx(packet({}))
  assert.deepEqual([first(c2).ok, first(c2).ok, first(c2).ok], [true, false, true])
  const inv = matcher(statistic, ['--mode nth', '! --every 3', '--packet 1'])
  const c3 = ctx(packet({}))
  const r = inv(c3)
  assert.equal(r.ok, true)
  assert.match(r.why, /nth counter 1 → 2/)
  assert.throws(() => matcher(statistic, ['--mode nth', '--every 3', '--packet 3']), /less than --every/)
  assert.throws(() => matcher(statistic, ['! --mode nth', '--every 3']), /cannot be negated/)
})
