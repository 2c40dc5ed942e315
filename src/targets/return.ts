/**
 * `-j RETURN`: back to the rule after the calling jump; in a built-in chain the chain policy applies
 * (net/ipv4/netfilter/ip_tables.c, XT_RETURN). The walker does the stack handling.
 */
import type {TargetKind} from './types.ts'
import {readOptions} from './util.ts'

export const returnTarget: TargetKind<null> = {
  name: 'RETURN',
  options: [],
  parse(opts) {
    readOptions('RETURN', opts, {})
    return null
  },
  apply: () => ({verdict: 'RETURN', effects: []}),
}
