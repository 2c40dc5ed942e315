/**
 * `-j SNAT --to-source [a[-b]][:p[-q]] [--random] [--random-fully] [--persistent]` (nat POSTROUTING/INPUT;
 * net/netfilter/xt_nat.c, iptables extensions/libxt_SNAT.c).
 */
import {OptionError} from '../matches/types.ts'
import type {NatRequest, TargetKind} from './types.ts'
import {natApply, parseNatRange} from './nat-common.ts'
import {readOptions} from './util.ts'

export const snatTarget: TargetKind<NatRequest> = {
  name: 'SNAT',
  options: ['to-source', 'random', 'random-fully', 'persistent'],
  parse(opts, ctx) {
    const o = readOptions('SNAT', opts, {'to-source': 1, random: 0, 'random-fully': 0, persistent: 0})
    const to = o.get('to-source')?.[0]
    if (to === undefined) throw new OptionError('SNAT needs --to-source')
    return {
      type: 'snat', ...parseNatRange(to, ctx),
      ...(o.has('random') ? {random: true} : {}), ...(o.has('random-fully') ? {randomFully: true} : {}), ...(o.has('persistent') ? {persistent: true} : {}),
    }
  },
  apply: natApply,
}
