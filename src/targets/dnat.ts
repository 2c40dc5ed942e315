/**
 * `-j DNAT --to-destination [a[-b]][:p[-q]] [--random] [--persistent]` (nat PREROUTING/OUTPUT; net/netfilter/xt_nat.c,
 * iptables extensions/libxt_DNAT.c). One --to-destination only (several were allowed before Linux 2.6.11).
 */
import {OptionError} from '../matches/types.ts'
import type {NatRequest, TargetKind} from './types.ts'
import {natApply, parseNatRange} from './nat-common.ts'
import {readOptions} from './util.ts'

export const dnatTarget: TargetKind<NatRequest> = {
  name: 'DNAT',
  options: ['to-destination', 'random', 'persistent'],
  parse(opts, ctx) {
    const o = readOptions('DNAT', opts, {'to-destination': 1, random: 0, persistent: 0})
    const to = o.get('to-destination')?.[0]
    if (to === undefined) throw new OptionError('DNAT needs --to-destination')
    return {type: 'dnat', ...parseNatRange(to, ctx), ...(o.has('random') ? {random: true} : {}), ...(o.has('persistent') ? {persistent: true} : {})}
  },
  apply: natApply,
}
