/**
 * `-j TOS` (mangle): `tos = (tos & ~mask) ^ value` on the IPv4 TOS byte / IPv6 traffic class
 * (net/netfilter/xt_DSCP.c tos_tg/tos_tg6). iptables extensions/libxt_TOS.c: `--set-tos V[/M]` (M default 0xff;
 * a symbolic name like Minimize-Delay uses mask 0x3f), `--and-tos B` = 0/~B, `--or-tos B` = B/B,
 * `--xor-tos B` = B/0. iptables-save prints `--set-tos 0xVV/0xMM`.
 */
import {OptionError} from '../matches/types.ts'
import type {TargetKind} from './types.ts'
import {bitChangeText} from './mark-bits.ts'
import {hex2, parseUint, parseValueMask, placementNotes, readOptions} from './util.ts'

/** RFC 1349 names (iptables libxtables tos names). */
const NAMES: Record<string, number> = {'minimize-delay': 0x10, 'maximize-throughput': 0x08, 'maximize-reliability': 0x04, 'minimize-cost': 0x02, 'normal-service': 0x00}

export interface TosSpec {
  value: number
  mask: number
}

export const tosTarget: TargetKind<TosSpec> = {
  name: 'TOS',
  options: ['set-tos', 'and-tos', 'or-tos', 'xor-tos'],
  parse(opts) {
    const o = readOptions('TOS', opts, {'set-tos': 1, 'and-tos': 1, 'or-tos': 1, 'xor-tos': 1})
    if (o.size !== 1) throw new OptionError('TOS needs exactly one of --set-tos, --and-tos, --or-tos, --xor-tos')
    const [[name, [arg]]] = [...o] as [[string, [string]]]
    if (name === 'set-tos') {
      const named = NAMES[arg.toLowerCase()]
      if (named !== undefined) return {value: named, mask: 0x3f}
      const vm = parseValueMask(arg, 0xff, 'TOS')
      return {value: vm.value, mask: vm.mask ?? 0xff}
    }
    const b = parseUint(arg, 0xff, 'TOS')
    return name === 'and-tos' ? {value: 0, mask: ~b & 0xff} : name === 'or-tos' ? {value: b, mask: b} : {value: b, mask: 0}
  },
  apply(spec, ctx) {
    const before = ctx.pkt.tos
    const after = ((before & ~spec.mask) ^ spec.value) & 0xff
    const field = ctx.family === 4 ? 'TOS' : 'traffic class'
    return {
      verdict: 'CONTINUE',
      effects: [
        ...placementNotes(ctx, 'TOS', {table: 'mangle'}, 'xt_DSCP.c'),
        {kind: 'header', field: 'tos', before, after, text: `${field} ${hex2(before)} → ${hex2(after)}: set-tos ${hex2(spec.value)}/${hex2(spec.mask)} (${bitChangeText(before, after)})`},
      ],
    }
  },
}
