/**
 * The files of a snapshot directory: one read-only command's stdout each. The names are a contract shared with
 * traces/collect.sh; an absent file means that part of the node is unknown, an empty one that it is known empty.
 */
import type {SnapshotPart} from '../model/snapshot.ts'

export interface SnapshotFile {
  name: string
  /** argv of the read-only command that produces it (run without a shell). */
  command: readonly string[]
  part: SnapshotPart
  /** Collected for later use (nftables, IPVS); the loader does not read it yet. */
  reserved?: boolean
  /** Partial output is still worth keeping when the command exits non-zero (sysctl -a hits unreadable keys). */
  partialOk?: boolean
}

export const SNAPSHOT_FILES: readonly SnapshotFile[] = [
  {name: 'iptables-save.txt', command: ['iptables-save', '-c'], part: 'iptables4'},
  {name: 'ip6tables-save.txt', command: ['ip6tables-save', '-c'], part: 'iptables6'},
  {name: 'ipset-save.txt', command: ['ipset', 'save'], part: 'ipset'},
  {name: 'ip-addr.json', command: ['ip', '-j', 'addr', 'show'], part: 'addr'},
  {name: 'ip-link.json', command: ['ip', '-j', '-d', 'link', 'show'], part: 'link'},
  {name: 'ip-route.json', command: ['ip', '-j', 'route', 'show', 'table', 'all'], part: 'route4'},
  {name: 'ip6-route.json', command: ['ip', '-j', '-6', 'route', 'show', 'table', 'all'], part: 'route6'},
  {name: 'ip-rule.json', command: ['ip', '-j', 'rule', 'show'], part: 'rule4'},
  {name: 'ip6-rule.json', command: ['ip', '-j', '-6', 'rule', 'show'], part: 'rule6'},
  {name: 'conntrack.txt', command: ['conntrack', '-L', '-o', 'extended'], part: 'conntrack'},
  {name: 'sysctl.txt', command: ['sysctl', '-a'], part: 'sysctl', partialOk: true},
  {name: 'nft-ruleset.json', command: ['nft', '-j', 'list', 'ruleset'], part: 'nft', reserved: true},
  {name: 'ipvsadm-save.txt', command: ['ipvsadm', '-Sn'], part: 'ipvs', reserved: true},
  {name: 'ipvsadm-list.txt', command: ['ipvsadm', '-Ln'], part: 'ipvs', reserved: true},
  {name: 'ipvs-conn.txt', command: ['ipvsadm', '-Lnc'], part: 'ipvs', reserved: true},
  {name: 'proc-ip_vs.txt', command: ['cat', '/proc/net/ip_vs'], part: 'ipvs', reserved: true},
  {name: 'proc-ip_vs_conn.txt', command: ['cat', '/proc/net/ip_vs_conn'], part: 'ipvs', reserved: true},
]

/** Host facts and, per file, the command, its exit code and stderr (Snapshot['meta'] as JSON). */
export const META_FILE = 'meta.json'
