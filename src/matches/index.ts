/**
 * The match registry: every module, keyed by its `-m` name (Wireshark-dissector style: adding a match is one
 * file plus one line here). Header matches (-s -d -i -o -p -f) are looked up by the parser under their own names.
 */
import type {MatchKind} from './types.ts'
import {source} from './source.ts'
import {destination} from './destination.ts'
import {inInterface} from './in-interface.ts'
import {outInterface} from './out-interface.ts'
import {protocol} from './protocol.ts'
import {fragment} from './fragment.ts'
import {tcp} from './tcp.ts'
import {udp} from './udp.ts'
import {sctp} from './sctp.ts'
import {icmp} from './icmp.ts'
import {icmp6} from './icmp6.ts'
import {multiport} from './multiport.ts'
import {mark} from './mark.ts'
import {connmark} from './connmark.ts'
import {conntrack} from './conntrack.ts'
import {state} from './state.ts'
import {addrtype} from './addrtype.ts'
import {comment} from './comment.ts'
import {iprange} from './iprange.ts'
import {mac} from './mac.ts'
import {length} from './length.ts'
import {ttl} from './ttl.ts'
import {hl} from './hl.ts'
import {tos} from './tos.ts'
import {dscp} from './dscp.ts'
import {pkttype} from './pkttype.ts'
import {set} from './set.ts'
import {statistic} from './statistic.ts'
import {physdev} from './physdev.ts'
import {owner} from './owner.ts'
import {recent} from './recent.ts'
import {limit} from './limit.ts'
import {hashlimit} from './hashlimit.ts'
import {connlimit} from './connlimit.ts'
import {quota} from './quota.ts'
import {socket} from './socket.ts'
import {string} from './string.ts'
import {u32} from './u32.ts'
import {rpfilter} from './rpfilter.ts'
import {policy} from './policy.ts'
import {devgroup} from './devgroup.ts'
import {cgroup} from './cgroup.ts'
import {helper} from './helper.ts'

/** Header matches, in the order the kernel checks them in ip_packet_match() / ip6_packet_match(). */
export const HEADER_MATCHES = {s: source, d: destination, i: inInterface, o: outInterface, p: protocol, f: fragment} as const

const MODULES: MatchKind[] = [
  tcp, udp, sctp, icmp, icmp6, multiport, mark, connmark,
  conntrack, state, addrtype, comment, iprange, mac, length, ttl,
  hl, tos, dscp, pkttype, set, statistic, physdev, owner,
  recent, limit, hashlimit, connlimit, quota, socket, string, u32,
  rpfilter, policy, devgroup, cgroup, helper,
]

const byName = new Map<string, MatchKind>()
for (const m of MODULES) for (const n of [m.name, ...(m.aliases ?? [])]) byName.set(n, m)

/** The module for `-m NAME`, or undefined (the parser then uses matches/unmodelled.ts). */
export function matchModule(name: string): MatchKind | undefined {
  return byName.get(name)
}
