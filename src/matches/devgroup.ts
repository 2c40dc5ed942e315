/**
 * `-m devgroup [!] --src-group G[/M] [!] --dst-group G[/M]` (net/netfilter/xt_devgroup.c): ((group ^ G) & M) == 0
 * for the input (src) and output (dst) device, each ^ `!`. Groups come from `ip -d link` (router.deviceGroup);
 * unknown groups are assumed 0, the kernel's default group.
 */
import type {EvalContext} from '../engine/state.ts'
import type {MatchKind} from './types.ts'
import {OptionError} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {optionTable, value} from './util/options.ts'
import {maskedText, parseValueMask} from './util/numbers.ts'

const table = optionTable({'src-group': 1, 'dst-group': 1})

function group(ctx: EvalContext, dev: string | undefined): number {
  return dev === undefined ? 0 : (ctx.world.router.deviceGroup(dev) ?? 0)
}

export const devgroup: MatchKind<Check[]> = {
  name: 'devgroup',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    if (!o.size) throw new OptionError('give --src-group and/or --dst-group')
    return (['src-group', 'dst-group'] as const).filter((n) => o.has(n)).map((n) => {
      const opt = o.get(n)!
      const vm = parseValueMask(value(opt), opt.text)
      const field = n === 'src-group' ? 'iif' : 'oif'
      const label = n === 'src-group' ? 'input device' : 'output device'
      return optionCheck(
        opt,
        (ctx) => ((group(ctx, ctx.pkt[field]) ^ vm.value) & vm.mask) === 0,
        (ctx, fact) => maskedText(`${label} ${ctx.pkt[field] ?? '(none)'} group`, group(ctx, ctx.pkt[field]), vm, fact),
        (ctx) => {
          const dev = ctx.pkt[field]
          if (dev === undefined) return `no ${label} at ${ctx.hook}; group taken as 0`
          return ctx.world.router.deviceGroup(dev) === undefined ? `group of ${dev} unknown (no link data in the snapshot); assumed 0, the default group` : undefined
        },
      )
    })
  },
  eval: runChecks,
  explain: (spec, ctx, ok) => explainChecks(spec, ctx, ok),
}
