/** `-j ACCEPT`: ends this table's chain walk at this hook; later hook entries still run (net/ipv4/netfilter/ip_tables.c). */
import type {TargetKind} from './types.ts'
import {readOptions} from './util.ts'

export const acceptTarget: TargetKind<null> = {
  name: 'ACCEPT',
  options: [],
  parse(opts) {
    readOptions('ACCEPT', opts, {})
    return null
  },
  apply: () => ({verdict: 'ACCEPT', effects: []}),
}
