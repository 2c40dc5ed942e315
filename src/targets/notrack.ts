/**
 * `-j NOTRACK` (raw table): the packet gets the untracked template, so conntrack and NAT skip it
 * (net/netfilter/xt_CT.c notrack_tg; same as `-j CT --notrack`).
 */
import type {TargetKind} from './types.ts'
import {placementNotes, readOptions} from './util.ts'

export const notrackTarget: TargetKind<null> = {
  name: 'NOTRACK',
  options: [],
  parse(opts) {
    readOptions('NOTRACK', opts, {})
    return null
  },
  apply: (_spec, ctx) => ({
    verdict: 'CONTINUE',
    effects: [
      ...placementNotes(ctx, 'NOTRACK', {table: 'raw'}, 'xt_CT.c'),
      {kind: 'ct', notrack: true, text: 'NOTRACK: the packet is untracked (no conntrack entry, no NAT; ctstate UNTRACKED)'},
    ],
  }),
}
