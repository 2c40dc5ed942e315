/**
 * `-j TRACE`: from here on the kernel reports every rule the packet meets (net/netfilter/xt_TRACE.c sets
 * skb->nf_trace; iptables-nft turns it into `meta nftrace set 1`, seen with `xtables-monitor --trace`).
 */
import type {TargetKind} from './types.ts'
import {readOptions} from './util.ts'

export const traceTarget: TargetKind<null> = {
  name: 'TRACE',
  options: [],
  parse(opts) {
    readOptions('TRACE', opts, {})
    return null
  },
  apply: () => ({verdict: 'CONTINUE', effects: [{kind: 'log', text: 'TRACE: the kernel traces this packet through the rest of its rules (xtables-monitor --trace / nft monitor trace)'}]}),
}
