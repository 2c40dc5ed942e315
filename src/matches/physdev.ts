/**
 * `-m physdev` (net/netfilter/xt_physdev.c): bridge ports of a packet bridged through br_netfilter.
 * Not bridged (no bridge info): every positive test fails, so only negated tests match. Bridged: --physdev-is-in /
 * --physdev-is-out / --physdev-is-bridged test that an in / out port exists (bridged = has an out port, so only
 * decidable in FORWARD/POSTROUTING); --physdev-in/--physdev-out compare names (`+` wildcard) and are skipped when
 * that port is absent. Bridging is not in the packet spec: assume.physdevIn / assume.physdevOut.
 */
import type {EvalContext} from '../engine/state.ts'
import {OptionError, type MatchKind, type OptionArg} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {optionTable, value} from './util/options.ts'
import {ifaceMatches, parseIface} from './util/iface.ts'

const table = optionTable({'physdev-in': 1, 'physdev-out': 1, 'physdev-is-in': 0, 'physdev-is-out': 0, 'physdev-is-bridged': 0})

const ports = (ctx: EvalContext) => ({inPort: ctx.pkt.assume.physdevIn, outPort: ctx.pkt.assume.physdevOut})
const bridged = (ctx: EvalContext) => ctx.pkt.assume.physdevIn !== undefined || ctx.pkt.assume.physdevOut !== undefined

function bridgeAssumption(ctx: EvalContext): string {
  const {inPort, outPort} = ports(ctx)
  if (!bridged(ctx)) return 'not bridged: no assume.physdevIn/physdevOut given (set them for a packet bridged with br_netfilter)'
  return `bridged: in port ${inPort ?? '(none)'}, out port ${outPort ?? '(none)'} from assume.physdevIn/physdevOut`
}

function portCheck(o: OptionArg, which: 'inPort' | 'outPort'): Check {
  const p = parseIface(value(o))
  const label = which === 'inPort' ? 'bridge in port' : 'bridge out port'
  return optionCheck(
    o,
    // Bridged but without this port, the kernel skips the name test: it passes whatever `!` says.
    (ctx) => (!bridged(ctx) ? false : ports(ctx)[which] === undefined ? !o.negated : ifaceMatches(p, ports(ctx)[which])),
    (ctx, fact) => {
      const port = ports(ctx)[which]
      if (!bridged(ctx)) return `the packet is not bridged, so ${o.text.replace(/^! /, '')} is false`
      if (port === undefined) return `no ${label}, so the name test is skipped`
      return `${label} ${port} ${fact ? 'matches' : 'does not match'} "${p.text}"`
    },
  )
}

function presenceCheck(o: OptionArg, has: (ctx: EvalContext) => boolean, what: string): Check {
  return optionCheck(o, has, (ctx, fact) => `${bridged(ctx) ? '' : 'not bridged: '}the packet ${fact ? 'has' : 'has no'} ${what}`)
}

export const physdev: MatchKind<Check[]> = {
  name: 'physdev',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    if (!o.size) throw new OptionError('physdev needs at least one option')
    const checks: Check[] = []
    if (o.has('physdev-is-bridged')) checks.push(presenceCheck(o.get('physdev-is-bridged')!, (ctx) => ports(ctx).outPort !== undefined, 'a bridge out port (bridged)'))
    if (o.has('physdev-is-in')) checks.push(presenceCheck(o.get('physdev-is-in')!, (ctx) => ports(ctx).inPort !== undefined, 'a bridge in port'))
    if (o.has('physdev-is-out')) checks.push(presenceCheck(o.get('physdev-is-out')!, (ctx) => ports(ctx).outPort !== undefined, 'a bridge out port'))
    if (o.has('physdev-in')) checks.push(portCheck(o.get('physdev-in')!, 'inPort'))
    if (o.has('physdev-out')) checks.push(portCheck(o.get('physdev-out')!, 'outPort'))
    const first = checks[0]!
    checks[0] = {...first, assumed: bridgeAssumption}
    return checks
  },
  eval: runChecks,
  explain: (spec, ctx, ok) => `${explainChecks(spec, ctx, ok)} (${bridgeAssumption(ctx)})`,
}
