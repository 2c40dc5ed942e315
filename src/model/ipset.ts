/**
 * ipsets (net/netfilter/ipset/). A set answers membership for a key built from the packet according to the
 * directions given by the rule (`--match-set NAME src,dst`). Implementations live in snapshot/ipset.ts.
 */
import type {Family} from '../net/addr.ts'
import type {PacketState} from '../engine/state.ts'

export interface SetTestResult {
  /** Membership as the kernel reports it (after nomatch handling). */
  hit: boolean
  /** The element that decided it, as `ipset save` prints it (also for a nomatch hit). */
  element?: string
  /** The deciding element was a `nomatch` element. */
  nomatch?: boolean
  /** Why, in words, e.g. "10.0.0.5,tcp:80 is in KUBE-CLUSTER-IP" or "port dimension needs tcp/udp/sctp". */
  reason: string
}

export interface IpSet {
  readonly name: string
  /** `hash:ip`, `hash:net,port`, `list:set`, … */
  readonly type: string
  readonly family?: Family
  /** Number of key dimensions (hash:ip,port = 2). */
  readonly dims: number
  readonly size: number
  /** Test with the packet fields chosen by `dirs` (one per dimension, extra dirs ignored like the kernel). */
  test(pkt: PacketState, dirs: ('src' | 'dst')[], opts?: {returnNomatch?: boolean}): SetTestResult
  /** SET target: a copy with the element derived from the packet added/removed (the original is unchanged). */
  withChange(op: 'add' | 'del', pkt: PacketState, dirs: ('src' | 'dst')[]): {set: IpSet; element: string; changed: boolean}
}
