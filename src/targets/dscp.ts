/**
 * `-j DSCP --set-dscp N | --set-dscp-class CLASS` (mangle): replaces the upper six bits of the TOS byte / traffic
 * class and keeps the two ECN bits (net/netfilter/xt_DSCP.c dscp_tg). Class names from iptables
 * extensions/dscp_helper.c; iptables-save prints `--set-dscp 0xNN`.
 */
import {OptionError} from '../matches/types.ts'
import type {TargetKind} from './types.ts'
import {hex2, parseUint, placementNotes, readOptions} from './util.ts'

const CLASSES: Record<string, number> = {
  cs0: 0, cs1: 8, cs2: 16, cs3: 24, cs4: 32, cs5: 40, cs6: 48, cs7: 56, be: 0, ef: 46,
  af11: 10, af12: 12, af13: 14, af21: 18, af22: 20, af23: 22, af31: 26, af32: 28, af33: 30, af41: 34, af42: 36, af43: 38,
}

export interface DscpSpec {
  dscp: number
}

export const dscpTarget: TargetKind<DscpSpec> = {
  name: 'DSCP',
  options: ['set-dscp', 'set-dscp-class'],
  parse(opts) {
    const o = readOptions('DSCP', opts, {'set-dscp': 1, 'set-dscp-class': 1})
    if (o.size !== 1) throw new OptionError('DSCP needs exactly one of --set-dscp, --set-dscp-class')
    const n = o.get('set-dscp')?.[0]
    if (n !== undefined) return {dscp: parseUint(n, 63, 'DSCP')}
    const c = o.get('set-dscp-class')![0]!
    const dscp = CLASSES[c.toLowerCase()]
    if (dscp === undefined) throw new OptionError(`unknown DSCP class ${JSON.stringify(c)}`)
    return {dscp}
  },
  apply(spec, ctx) {
    const before = ctx.pkt.tos
    const after = (before & 0x03) | (spec.dscp << 2)
    const field = ctx.family === 4 ? 'TOS' : 'traffic class'
    return {
      verdict: 'CONTINUE',
      effects: [
        ...placementNotes(ctx, 'DSCP', {table: 'mangle'}, 'xt_DSCP.c'),
        {kind: 'header', field: 'tos', before, after, text: `DSCP ${before >> 2} → ${spec.dscp} (${field} ${hex2(before)} → ${hex2(after)}, ECN bits kept)`},
      ],
    }
  },
}
