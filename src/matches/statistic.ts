/**
 * `-m statistic` (net/netfilter/xt_statistic.c; iptables extensions/libxt_statistic.c).
 * random: iptables stores lround(P × 2^31) and the kernel matches iff (get_random_u32() & 0x7FFFFFFF) < that, so the
 * exact probability is threshold / 2^31; the printed 11 decimals convert back to the same integer.
 * nth: `--every n --packet p` stores every = n-1 and an initial count = every - p; per packet the count advances
 * (wrapping after `every` to 0) and the rule matches when it becomes 0. The count lives in the rule and restarts
 * when the rule is re-created. `!` (on --probability / --every) sets XT_STATISTIC_INVERT.
 */
import {OptionError, type MatchKind} from './types.ts'
import {optionTable, required, value} from './util/options.ts'
import {parseUint} from './util/numbers.ts'
import {withNegation} from './util/negate.ts'

export type StatisticSpec =
  | {mode: 'random'; threshold: number; invert: boolean; text: string}
  | {mode: 'nth'; every: number; packet: number; invert: boolean; text: string}

const TWO_31 = 2 ** 31

const table = optionTable({mode: 1, probability: 1, every: 1, packet: 1})

/** libxt_statistic.c: lround(0x80000000 * P); P is within [0, 1]. */
export function probabilityThreshold(p: number): number {
  return Math.round(TWO_31 * p)
}

/** As iptables-save prints it: threshold / 2^31 with 11 decimals. */
function probabilityText(threshold: number): string {
  return (threshold / TWO_31).toFixed(11)
}

export const statistic: MatchKind<StatisticSpec> = {
  name: 'statistic',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    const mode = required(o, 'mode')
    if (mode.negated) throw new OptionError('--mode cannot be negated')
    const invert = [...o.values()].some((x) => x.negated)
    const text = [...o.values()].map((x) => x.text).join(' ')
    if (value(mode) === 'random') {
      const p = o.get('probability')
      if (!p) throw new OptionError('--probability must be specified when using random mode')
      if (o.has('every') || o.has('packet')) throw new OptionError('--every/--packet are for nth mode')
      const prob = Number(value(p))
      if (!/^[\d.eE+-]+$/.test(value(p)) || !(prob >= 0 && prob <= 1)) throw new OptionError('--probability must be between 0 and 1')
      return {mode: 'random', threshold: probabilityThreshold(prob), invert, text}
    }
    if (value(mode) === 'nth') {
      const e = o.get('every')
      if (!e) throw new OptionError('--every must be specified when using nth mode')
      if (o.has('probability')) throw new OptionError('--probability is for random mode')
      const every = parseUint(value(e), 0xffffffff, '--every')
      if (every === 0) throw new OptionError('--every cannot be 0')
      const pk = o.get('packet')
      const packet = pk ? parseUint(value(pk), 0xffffffff, '--packet') : 0
      if (packet > every - 1) throw new OptionError('--packet must be less than --every')
      return {mode: 'nth', every: every - 1, packet, invert, text}
    }
    throw new OptionError(`bad mode ${JSON.stringify(value(mode))}`)
  },
  eval(spec, ctx) {
    if (spec.mode === 'random') {
      const p = probabilityText(spec.threshold)
      const label = `statistic random: (random & 0x7fffffff) < ${spec.threshold} (p = ${spec.threshold}/2^31 = ${p})`
      const drawn = ctx.world.choose(label, spec.threshold, TWO_31)
      return {ok: drawn !== spec.invert, detail: `the random draw ${drawn ? 'fell' : 'did not fall'} below ${spec.threshold}/2^31 (probability ${p}) in this branch`}
    }
    // The spec object is per rule, so it keys the rule's counter (xt_statistic.c keeps it in info->master).
    const counter = ctx.world.counter(spec, () => spec.every - spec.packet)
    const old = counter.get()
    const next = old === spec.every ? 0 : old + 1
    counter.set(next)
    const hit = next === 0
    const detail = `nth counter ${old} → ${next} (every ${spec.every + 1}, matches at 0): ${hit ? 'this is the packet' : 'not this packet'}`
    // The kernel's counter is in no dump: the first packet of a session assumes the value a freshly loaded rule has.
    return counter.fresh
      ? {ok: hit !== spec.invert, detail, assumed: `the rule's nth counter is not in the snapshot: assumed as freshly loaded (${old}); later packets of this run advance it`}
      : {ok: hit !== spec.invert, detail}
  },
  explain(spec, _ctx, ok, detail) {
    return withNegation(detail ?? spec.text, spec.invert, ok, spec.text)
  },
}
