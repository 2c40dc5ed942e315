/**
 * `-j CLASSIFY --set-class MAJ:MIN` (FORWARD/OUTPUT/POSTROUTING): sets skb->priority to MAJ<<16|MIN, which selects
 * a tc class of the output qdisc (net/netfilter/xt_CLASSIFY.c). Both parts are hex (iptables-save: `0001:0010`).
 */
import {OptionError} from '../matches/types.ts'
import type {TargetKind} from './types.ts'
import {placementNotes, readOptions} from './util.ts'

export interface ClassifySpec {
  major: number
  minor: number
}

export const classifyTarget: TargetKind<ClassifySpec> = {
  name: 'CLASSIFY',
  options: ['set-class'],
  parse(opts) {
    const v = readOptions('CLASSIFY', opts, {'set-class': 1}).get('set-class')?.[0]
    if (v === undefined) throw new OptionError('CLASSIFY needs --set-class')
    const m = /^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$/.exec(v)
    if (!m) throw new OptionError(`bad class ${JSON.stringify(v)} (MAJOR:MINOR in hex)`)
    return {major: parseInt(m[1]!, 16), minor: parseInt(m[2]!, 16)}
  },
  apply(spec, ctx) {
    const after = ((spec.major << 16) | spec.minor) >>> 0
    const cls = `${spec.major.toString(16)}:${spec.minor.toString(16)}`
    return {
      verdict: 'CONTINUE',
      effects: [
        ...placementNotes(ctx, 'CLASSIFY', {hooks: ['FORWARD', 'OUTPUT', 'POSTROUTING']}, 'xt_CLASSIFY.c'),
        {kind: 'header', field: 'priority', after, text: `CLASSIFY: priority 0x${after.toString(16).padStart(8, '0')} (tc class ${cls} on the output device's qdisc)`},
      ],
    }
  },
}
