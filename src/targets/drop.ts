/** `-j DROP`: the packet is freed; nothing after it runs (net/ipv4/netfilter/ip_tables.c). */
import type {TargetKind} from './types.ts'
import {readOptions} from './util.ts'

export const dropTarget: TargetKind<null> = {
  name: 'DROP',
  options: [],
  parse(opts) {
    readOptions('DROP', opts, {})
    return null
  },
  apply: () => ({verdict: 'DROP', effects: []}),
}
