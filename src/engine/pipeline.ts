/**
 * Which entries run at each hook, in kernel priority order (include/uapi/linux/netfilter_ipv4.h NF_IP_PRI_*;
 * the order of registration only matters for ties, and the iptables tables never tie).
 * IPv6 uses the same numbers (NF_IP6_PRI_*).
 */
import type {HookName} from '../model/ruleset.ts'

export type HookEntry =
  | {kind: 'table'; table: 'raw' | 'mangle' | 'filter' | 'security'; priority: number}
  /** The nat table runs inside the NAT core: only for a connection's first packet (net/netfilter/nf_nat_core.c). */
  | {kind: 'nat'; manip: 'dst' | 'src'; priority: number}
  /** nf_conntrack_in: lookup or create the entry (net/netfilter/nf_conntrack_core.c). */
  | {kind: 'conntrack'; priority: number}
  /** __nf_conntrack_confirm: a new entry enters the table. */
  | {kind: 'confirm'; priority: number}

const PRI = {raw: -300, conntrack: -200, mangle: -150, natDst: -100, filter: 0, security: 50, natSrc: 100, confirm: 2 ** 31 - 1}

const ENTRIES: Record<HookName, HookEntry[]> = {
  PREROUTING: [
    {kind: 'table', table: 'raw', priority: PRI.raw},
    {kind: 'conntrack', priority: PRI.conntrack},
    {kind: 'table', table: 'mangle', priority: PRI.mangle},
    {kind: 'nat', manip: 'dst', priority: PRI.natDst},
  ],
  INPUT: [
    {kind: 'table', table: 'mangle', priority: PRI.mangle},
    {kind: 'table', table: 'filter', priority: PRI.filter},
    {kind: 'table', table: 'security', priority: PRI.security},
    {kind: 'nat', manip: 'src', priority: PRI.natSrc},
    {kind: 'confirm', priority: PRI.confirm},
  ],
  FORWARD: [
    {kind: 'table', table: 'mangle', priority: PRI.mangle},
    {kind: 'table', table: 'filter', priority: PRI.filter},
    {kind: 'table', table: 'security', priority: PRI.security},
  ],
  OUTPUT: [
    {kind: 'table', table: 'raw', priority: PRI.raw},
    {kind: 'conntrack', priority: PRI.conntrack},
    {kind: 'table', table: 'mangle', priority: PRI.mangle},
    {kind: 'nat', manip: 'dst', priority: PRI.natDst},
    {kind: 'table', table: 'filter', priority: PRI.filter},
    {kind: 'table', table: 'security', priority: PRI.security},
  ],
  POSTROUTING: [
    {kind: 'table', table: 'mangle', priority: PRI.mangle},
    {kind: 'nat', manip: 'src', priority: PRI.natSrc},
    {kind: 'confirm', priority: PRI.confirm},
  ],
}

export function hookEntries(hook: HookName): readonly HookEntry[] {
  return ENTRIES[hook]
}

export function entryName(e: HookEntry): string {
  switch (e.kind) {
    case 'table': return `${e.table} (${e.priority})`
    case 'nat': return `nat (${e.priority})`
    case 'conntrack': return `conntrack (${e.priority})`
    case 'confirm': return 'conntrack confirm (INT_MAX)'
  }
}
