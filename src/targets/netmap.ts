/**
 * `-j NETMAP --to prefix` (nat, any of its hooks; net/netfilter/xt_NETMAP.c): maps the destination
 * (PREROUTING/OUTPUT) or source (POSTROUTING/INPUT) onto the prefix, keeping the host bits. iptables-save prints
 * the prefix with host bits cleared (`--to 192.168.0.0/8` → `192.0.0.0/8`).
 */
import {OptionError} from '../matches/types.ts'
import type {NatRequest, TargetKind} from './types.ts'
import {natApply} from './nat-common.ts'
import {parseCidrOption, readOptions} from './util.ts'

export const netmapTarget: TargetKind<NatRequest> = {
  name: 'NETMAP',
  options: ['to'],
  parse(opts, ctx) {
    const to = readOptions('NETMAP', opts, {to: 1}).get('to')?.[0]
    if (to === undefined) throw new OptionError('NETMAP needs --to')
    return {type: 'netmap', prefix: parseCidrOption(to, ctx.family, '--to').text}
  },
  apply: natApply,
}
