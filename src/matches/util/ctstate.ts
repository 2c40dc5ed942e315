/**
 * The connection state as `-m conntrack --ctstate` and `-m state --state` see it (net/netfilter/xt_conntrack.c,
 * net/netfilter/xt_state.c). nf_ct_get() returns no entry for a packet conntrack found INVALID, and none for an
 * untracked packet either (modern kernels keep no untracked conntrack object, only ctinfo IP_CT_UNTRACKED): both
 * then match only by their state bit, and every other conntrack test fails.
 */
import {CT_STATUS, type CtView, type PacketState} from '../../engine/state.ts'
import {OptionError} from '../types.ts'

/** Our own bit numbers; only the names matter (xt_conntrack.h XT_CONNTRACK_STATE_*). */
export const CT_STATE_BITS = {INVALID: 1, NEW: 2, ESTABLISHED: 4, RELATED: 8, UNTRACKED: 16, SNAT: 32, DNAT: 64} as const
export type CtStateName = keyof typeof CT_STATE_BITS

/** The conntrack entry nf_ct_get() would return, or undefined. */
export function trackedCt(pkt: PacketState): CtView | undefined {
  const ct = pkt.ct
  return ct && ct.state !== 'INVALID' && ct.state !== 'UNTRACKED' ? ct : undefined
}

/** Why there is no entry, in words (only meaningful when trackedCt() is undefined). */
export function noEntryReason(pkt: PacketState): string {
  if (pkt.ct === undefined) return 'conntrack has not seen the packet yet'
  if (pkt.ct?.state === 'UNTRACKED') return 'the packet is untracked'
  return 'conntrack found the packet INVALID'
}

/** The state bit of the packet; with `nat`, the SNAT/DNAT virtual bits of its entry too (conntrack only). */
export function stateBits(pkt: PacketState, nat: boolean): number {
  const ct = trackedCt(pkt)
  if (!ct) return pkt.ct?.state === 'UNTRACKED' ? CT_STATE_BITS.UNTRACKED : CT_STATE_BITS.INVALID
  let bits = CT_STATE_BITS[ct.state]
  if (nat) {
    if (ct.status & CT_STATUS.SRC_NAT) bits |= CT_STATE_BITS.SNAT
    if (ct.status & CT_STATUS.DST_NAT) bits |= CT_STATE_BITS.DNAT
  }
  return bits
}

/** `NEW,ESTABLISHED` → bits; `allowed` lists the names this option takes. */
export function parseStates(text: string, allowed: readonly CtStateName[]): number {
  let bits = 0
  for (const name of text.split(',')) {
    const n = name.toUpperCase() as CtStateName
    if (!allowed.includes(n)) throw new OptionError(`unknown state ${JSON.stringify(name)}`)
    bits |= CT_STATE_BITS[n]
  }
  return bits
}

export function stateNames(bits: number): string {
  return (Object.keys(CT_STATE_BITS) as CtStateName[]).filter((n) => bits & CT_STATE_BITS[n]).join(',')
}

/** `state ESTABLISHED,DNAT is in NEW,DNAT`; without an entry, says why. */
export function stateSentence(pkt: PacketState, nat: boolean, rule: number, fact: boolean): string {
  const why = trackedCt(pkt) ? '' : ` (no conntrack entry: ${noEntryReason(pkt)})`
  return `state ${stateNames(stateBits(pkt, nat))}${why} ${fact ? 'is' : 'is not'} in ${stateNames(rule)}`
}
