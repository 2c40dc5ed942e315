/**
 * `-j TTL --ttl-set N | --ttl-dec N | --ttl-inc N` (IPv4, mangle): rewrites the TTL, saturating at 0 and 255
 * (net/netfilter/xt_HL.c ttl_tg). hl.ts is the IPv6 twin; both are built here.
 */
import {OptionError} from '../matches/types.ts'
import type {Family} from '../net/addr.ts'
import type {TargetKind} from './types.ts'
import {parseUint, placementNotes, readOptions} from './util.ts'

export interface HopSpec {
  mode: 'set' | 'dec' | 'inc'
  value: number
}

/** TTL (IPv4, `ttl`) and HL (IPv6, `hl`): same options with their prefix, same arithmetic. */
export function hopLimitTarget(name: string, prefix: 'ttl' | 'hl', family: Family, field: string): TargetKind<HopSpec> {
  const modes = ['set', 'dec', 'inc'] as const
  return {
    name,
    options: modes.map((m) => `${prefix}-${m}`),
    parse(opts, ctx) {
      const o = readOptions(name, opts, Object.fromEntries(modes.map((m) => [`${prefix}-${m}`, 1])))
      if (ctx.family !== family) throw new OptionError(`${name} is for IPv${family} only`)
      if (o.size !== 1) throw new OptionError(`${name} needs exactly one of ${modes.map((m) => `--${prefix}-${m}`).join(', ')}`)
      const mode = modes.find((m) => o.has(`${prefix}-${m}`))!
      const value = parseUint(o.get(`${prefix}-${mode}`)![0]!, 255, field)
      // iptables libxt_{TTL,HL}.c: decrementing/incrementing by 0 "makes no sense".
      if (mode !== 'set' && value === 0) throw new OptionError(`--${prefix}-${mode} 0 makes no sense`)
      return {mode, value}
    },
    apply(spec, ctx) {
      const before = ctx.pkt.ttl
      const after = spec.mode === 'set' ? spec.value : spec.mode === 'inc' ? Math.min(255, before + spec.value) : Math.max(0, before - spec.value)
      const clamp = spec.mode !== 'set' && after !== before + (spec.mode === 'inc' ? spec.value : -spec.value) ? ` (stops at ${after})` : ''
      return {
        verdict: 'CONTINUE',
        effects: [
          ...placementNotes(ctx, name, {table: 'mangle'}, 'xt_HL.c'),
          {kind: 'header', field: 'ttl', before, after, text: `${field} ${before} → ${after}: ${prefix}-${spec.mode} ${spec.value}${clamp}`},
        ],
      }
    },
  }
}

export const ttlTarget = hopLimitTarget('TTL', 'ttl', 4, 'TTL')
