/**
 * `-m set [!] --match-set NAME dir[,dir…]` (net/netfilter/xt_set.c, revision 3/4): membership of the key built from
 * the packet, one direction per set dimension. Counter conditions (`--packets-gt` …) are part of the membership
 * test: an element whose counters fail them counts as absent, before `!` (ipset/ip_set_core.c
 * ip_set_match_extensions()). They compare the counters *before* this packet; sets without `counters` skip them.
 */
import {OptionError, type MatchKind} from './types.ts'
import {optionTable} from './util/options.ts'
import type {CountedSetTestResult, Dir} from '../snapshot/ipset.ts'
import {withNegation} from './util/negate.ts'

type CounterOp = 'eq' | 'ne' | 'lt' | 'gt'

interface CounterCond {
  op: CounterOp
  value: number
}

export interface SetSpec {
  name: string
  dirs: Dir[]
  invert: boolean
  /** As written, for `!` wording. */
  text: string
  returnNomatch: boolean
  /** `! --update-counters` / `! --update-subcounters`: only change what the kernel would count, not the answer. */
  skipCounterUpdate: boolean
  skipSubcounterUpdate: boolean
  packets?: CounterCond
  bytes?: CounterCond
}

/** IPSET_DIM_MAX (include/uapi/linux/netfilter/ipset/ip_set.h). */
const DIM_MAX = 6

const table = optionTable(
  {'match-set': 2, 'return-nomatch': 0, 'update-counters': 0, 'update-subcounters': 0,
    'packets-eq': 1, 'packets-lt': 1, 'packets-gt': 1, 'bytes-eq': 1, 'bytes-lt': 1, 'bytes-gt': 1},
  {set: 'match-set'},
)

function parseDirs(text: string): Dir[] {
  const dirs = text.split(',')
  if (dirs.length > DIM_MAX || dirs.some((d) => d !== 'src' && d !== 'dst')) throw new OptionError(`bad directions ${JSON.stringify(text)} (src/dst, at most ${DIM_MAX})`)
  return dirs as Dir[]
}

function counterCond(opts: Map<string, {values: string[]; negated: boolean; text: string}>, what: 'packets' | 'bytes'): CounterCond | undefined {
  const given = (['eq', 'lt', 'gt'] as const).filter((op) => opts.has(`${what}-${op}`))
  if (given.length > 1) throw new OptionError(`only one of the --${what}-[eq|lt|gt] is allowed`)
  if (!given.length) return undefined
  const o = opts.get(`${what}-${given[0]}`)!
  if (!/^\d+$/.test(o.values[0]!)) throw new OptionError(`${o.text}: not a counter value`)
  // libxt_set.c: only --X-eq takes `!` (IPSET_COUNTER_NE).
  if (o.negated && given[0] !== 'eq') throw new OptionError(`${o.text}: cannot be negated`)
  return {op: o.negated ? 'ne' : given[0]!, value: Number(o.values[0])}
}

const OP_TEXT: Record<CounterOp, string> = {eq: '=', ne: '!=', lt: '<', gt: '>'}

function compare(v: number, c: CounterCond): boolean {
  return c.op === 'eq' ? v === c.value : c.op === 'ne' ? v !== c.value : c.op === 'lt' ? v < c.value : v > c.value
}

export const set: MatchKind<SetSpec> = {
  name: 'set',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    const ms = o.get('match-set')
    if (!ms) throw new OptionError('--match-set NAME DIRS is required')
    const rn = o.get('return-nomatch')
    if (rn?.negated) throw new OptionError('--return-nomatch cannot be negated')
    const uc = o.get('update-counters')
    const usc = o.get('update-subcounters')
    return {
      name: ms.values[0]!, dirs: parseDirs(ms.values[1]!), invert: ms.negated, text: ms.text, returnNomatch: !!rn,
      skipCounterUpdate: !!uc?.negated, skipSubcounterUpdate: !!usc?.negated,
      packets: counterCond(o, 'packets'), bytes: counterCond(o, 'bytes'),
    }
  },
  eval(spec, ctx) {
    const s = ctx.world.set(spec.name)
    // The kernel refuses a rule naming a set that does not exist; a snapshot may lack the ipset part.
    if (!s) return {ok: false, assumed: `set ${spec.name} not in snapshot: the rule is taken as not matching`, detail: `set ${spec.name} not in snapshot`}
    const r: CountedSetTestResult = s.test(ctx.pkt, spec.dirs, {returnNomatch: spec.returnNomatch})
    let hit = r.hit
    let detail = r.reason
    let assumed: string | undefined
    const conds = ([['packets', spec.packets], ['bytes', spec.bytes]] as const).filter(([, c]) => c)
    if (hit && conds.length) {
      if (!r.counters) detail += `; ${s.name} has no counters, so the counter conditions are skipped (as the kernel does)`
      else {
        for (const [what, c] of conds) {
          const v = r.counters[what]
          const ok = compare(v, c!)
          detail += `; element ${what} ${v} ${ok ? 'satisfies' : 'fails'} ${OP_TEXT[c!.op]} ${c!.value}`
          hit &&= ok
        }
        if (!r.counters.known) assumed = `counters of ${r.element} are not in the snapshot; assumed 0`
      }
    }
    const ok = hit !== spec.invert
    return assumed ? {ok, assumed, detail} : {ok, detail}
  },
  explain(spec, _ctx, ok, detail) {
    return withNegation(detail ?? `set ${spec.name}`, spec.invert, ok, spec.text)
  },
}
