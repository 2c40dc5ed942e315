/**
 * `-j CT` (raw table, before conntrack runs): attaches a conntrack template to the packet
 * (net/netfilter/xt_CT.c). `--notrack` makes it untracked; `--zone N|mark` (also `--zone-orig`/`--zone-reply`)
 * puts the new connection in a zone (`mark`: the zone is skb->mark, truncated to the 16-bit zone id);
 * `--helper NAME` assigns a helper; `--ctevents/--expevents` limit the events sent to ctnetlink; `--timeout NAME`
 * attaches a timeout policy (entry timeouts are not simulated).
 */
import {OptionError} from '../matches/types.ts'
import type {Effect, TargetKind} from './types.ts'
import {parseUint, placementNotes, readOptions} from './util.ts'

export interface CtSpec {
  notrack: boolean
  /** A number, or 'mark' for the zone taken from skb->mark. */
  zone?: number | 'mark'
  /** Which direction the zone applies to (--zone: both). */
  zoneDir?: 'orig' | 'reply'
  helper?: string
  ctevents?: string
  expevents?: string
  timeout?: string
}

const ARITY = {notrack: 0, zone: 1, 'zone-orig': 1, 'zone-reply': 1, helper: 1, ctevents: 1, expevents: 1, timeout: 1}

export const ctTarget: TargetKind<CtSpec> = {
  name: 'CT',
  options: Object.keys(ARITY),
  parse(opts) {
    const o = readOptions('CT', opts, ARITY)
    const zones = (['zone', 'zone-orig', 'zone-reply'] as const).filter((z) => o.has(z))
    if (zones.length > 1) throw new OptionError(`--${zones[0]} and --${zones[1]} cannot be combined`)
    const spec: CtSpec = {notrack: o.has('notrack')}
    const z = zones[0]
    if (z) {
      const v = o.get(z)![0]!
      spec.zone = v === 'mark' ? 'mark' : parseUint(v, 0xffff, 'zone')
      if (z !== 'zone') spec.zoneDir = z === 'zone-orig' ? 'orig' : 'reply'
    }
    for (const k of ['helper', 'ctevents', 'expevents', 'timeout'] as const) {
      const v = o.get(k)?.[0]
      if (v !== undefined) spec[k] = v
    }
    return spec
  },
  apply(spec, ctx) {
    const effects: Effect[] = placementNotes(ctx, 'CT', {table: 'raw'}, 'xt_CT.c')
    if (spec.notrack) {
      // xt_ct_tg_check(): with --notrack the other options are not used.
      effects.push({kind: 'ct', notrack: true, text: 'CT --notrack: the packet is untracked (no conntrack entry, no NAT; ctstate UNTRACKED)'})
      return {verdict: 'CONTINUE', effects}
    }
    const parts: string[] = []
    const ct: Extract<Effect, {kind: 'ct'}> = {kind: 'ct', text: ''}
    if (spec.zone !== undefined) {
      const zone = spec.zone === 'mark' ? ctx.pkt.mark & 0xffff : spec.zone
      ct.zone = zone
      const dir = spec.zoneDir ? ` for the ${spec.zoneDir === 'orig' ? 'original' : 'reply'} direction only` : ''
      parts.push(spec.zone === 'mark' ? `zone ${zone} (from mark 0x${ctx.pkt.mark.toString(16)})${dir}` : `zone ${zone}${dir}`)
    }
    if (spec.helper) {
      ct.helper = spec.helper
      parts.push(`helper ${spec.helper}`)
    }
    if (spec.ctevents) parts.push(`only ${spec.ctevents} connection events reported`)
    if (spec.expevents) parts.push(`only ${spec.expevents} expectation events reported`)
    if (spec.timeout) parts.push(`timeout policy ${spec.timeout} (not modelled: timeouts are not simulated)`)
    ct.text = `CT: the connection gets ${parts.join(', ') || 'the default template'}`
    effects.push(ct)
    return {verdict: 'CONTINUE', effects}
  },
}
