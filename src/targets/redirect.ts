/**
 * `-j REDIRECT [--to-ports p[-q]] [--random]` (nat PREROUTING/OUTPUT; net/netfilter/xt_REDIRECT.c,
 * nf_nat_redirect.c): DNAT to the input device's first address (OUTPUT: loopback), which the engine works out.
 */
import type {NatRequest, TargetKind} from './types.ts'
import {natApply, parsePorts} from './nat-common.ts'
import {readOptions} from './util.ts'

export const redirectTarget: TargetKind<NatRequest> = {
  name: 'REDIRECT',
  options: ['to-ports', 'random'],
  parse(opts, ctx) {
    const o = readOptions('REDIRECT', opts, {'to-ports': 1, random: 0})
    const ports = o.get('to-ports')?.[0]
    return {type: 'redirect', ...(ports !== undefined ? parsePorts(ports, ctx) : {}), ...(o.has('random') ? {random: true} : {})}
  },
  apply: natApply,
}
