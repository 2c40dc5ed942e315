/**
 * `-j MASQUERADE [--to-ports p[-q]] [--random] [--random-fully]` (nat POSTROUTING only; net/netfilter/xt_MASQUERADE.c,
 * nf_nat_masquerade.c). The address comes from the output device at NAT time, which the engine works out.
 */
import type {NatRequest, TargetKind} from './types.ts'
import {natApply, parsePorts} from './nat-common.ts'
import {readOptions} from './util.ts'

export const masqueradeTarget: TargetKind<NatRequest> = {
  name: 'MASQUERADE',
  options: ['to-ports', 'random', 'random-fully'],
  parse(opts, ctx) {
    const o = readOptions('MASQUERADE', opts, {'to-ports': 1, random: 0, 'random-fully': 0})
    const ports = o.get('to-ports')?.[0]
    return {
      type: 'masquerade', ...(ports !== undefined ? parsePorts(ports, ctx) : {}),
      ...(o.has('random') ? {random: true} : {}), ...(o.has('random-fully') ? {randomFully: true} : {}),
    }
  },
  apply: natApply,
}
