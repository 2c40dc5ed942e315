/**
 * `-j SET [--add-set NAME dirs] [--del-set NAME dirs] [--exist] [--timeout N]` (net/netfilter/xt_SET.c): adds/removes
 * the element built from the packet (one direction per set dimension, as for `-m set`) and continues. The engine
 * applies the effect through IpSet.withChange, so later rules of this packet's path see the change.
 * `--exist` (refresh the timeout of an existing element) and `--timeout` only matter for timed sets, which we do not
 * age; `--map-set` (skb mark/priority/queue from the set's skbinfo) is not modelled and is reported.
 */
import {OptionError} from '../matches/types.ts'
import type {Effect, TargetKind} from './types.ts'
import {parseUint, readOptions} from './util.ts'
import type {Dir} from '../snapshot/ipset.ts'

interface SetOp {
  op: 'add' | 'del'
  set: string
  dirs: Dir[]
}

export interface SetTargetSpec {
  ops: SetOp[]
  exist: boolean
  timeout?: number
  mapSet?: string
}

/** IPSET_DIM_MAX. */
const DIM_MAX = 6

function dirs(text: string): Dir[] {
  const d = text.split(',')
  if (d.length > DIM_MAX || d.some((x) => x !== 'src' && x !== 'dst')) throw new OptionError(`bad directions ${JSON.stringify(text)}`)
  return d as Dir[]
}

export const setTarget: TargetKind<SetTargetSpec> = {
  name: 'SET',
  options: ['add-set', 'del-set', 'exist', 'timeout', 'map-set', 'map-mark', 'map-prio', 'map-queue'],
  parse(opts) {
    const o = readOptions('SET', opts, {'add-set': 2, 'del-set': 2, exist: 0, timeout: 1, 'map-set': 2, 'map-mark': 0, 'map-prio': 0, 'map-queue': 0})
    const ops: SetOp[] = []
    for (const op of ['add', 'del'] as const) {
      const v = o.get(`${op}-set`)
      if (v) ops.push({op, set: v[0]!, dirs: dirs(v[1]!)})
    }
    if (!ops.length && !o.has('map-set')) throw new OptionError('SET needs --add-set, --del-set or --map-set')
    if (o.has('timeout') && !o.has('add-set')) throw new OptionError('--timeout is only valid with --add-set')
    return {
      ops, exist: o.has('exist'),
      timeout: o.has('timeout') ? parseUint(o.get('timeout')![0]!, 0xffffffff, 'timeout') : undefined,
      mapSet: o.get('map-set')?.[0],
    }
  },
  apply(spec, ctx) {
    const effects: Effect[] = spec.ops.map(({op, set, dirs}) => {
      const s = ctx.world.set(set)
      const verb = op === 'add' ? 'add to' : 'delete from'
      if (!s) return {kind: 'note', text: `SET: set ${set} is not in the snapshot; cannot ${verb} it`}
      // Only to describe the element: the engine makes the change itself.
      const c = s.withChange(op, ctx.pkt, dirs)
      const extra = op === 'add' ? [spec.timeout !== undefined ? `timeout ${spec.timeout}s` : '', spec.exist ? '--exist' : ''].filter(Boolean).join(', ') : ''
      const what = c.changed ? `${op === 'add' ? 'adds' : 'deletes'} ${c.element}` : `${op === 'add' ? 'would add' : 'would delete'} ${c.element}: ${op === 'add' ? 'already present' : 'not present'} or not applicable, no change`
      return {kind: 'set', op, set, dirs, text: `SET ${verb} ${set} (${dirs.join(',')}): ${what}${extra ? ` (${extra})` : ''}`}
    })
    if (spec.mapSet) effects.push({kind: 'note', text: `SET --map-set ${spec.mapSet}: copying skb mark/priority/queue from the set is not modelled`, unmodelled: true})
    return {verdict: 'CONTINUE', effects}
  },
}
