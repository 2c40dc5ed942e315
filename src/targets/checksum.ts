/**
 * `-j CHECKSUM --checksum-fill` (mangle): computes a checksum left to hardware offload (CHECKSUM_PARTIAL), for
 * old DHCP clients in VMs (net/netfilter/xt_CHECKSUM.c). Nothing a rule can match on changes.
 */
import {OptionError} from '../matches/types.ts'
import type {TargetKind} from './types.ts'
import {placementNotes, readOptions} from './util.ts'

export const checksumTarget: TargetKind<null> = {
  name: 'CHECKSUM',
  options: ['checksum-fill'],
  parse(opts) {
    if (!readOptions('CHECKSUM', opts, {'checksum-fill': 0}).has('checksum-fill')) throw new OptionError('CHECKSUM needs --checksum-fill')
    return null
  },
  apply: (_spec, ctx) => ({
    verdict: 'CONTINUE',
    effects: [
      ...placementNotes(ctx, 'CHECKSUM', {table: 'mangle'}, 'xt_CHECKSUM.c'),
      {kind: 'header', field: 'checksum', text: 'CHECKSUM: fills in the layer-4 checksum if it was left to offload (CHECKSUM_PARTIAL); nothing else changes'},
    ],
  }),
}
