/**
 * Protocol names for `-p` and `--ctproto`: libxtables' own list (xtables.c xtables_chain_protos) plus the names of
 * a standard /etc/protocols (netbase), because iptables-save prints getprotobynumber()'s name (`-p gre`, `-p ipip`).
 */
import {protoName} from '../../model/packet.ts'
import {OptionError} from '../types.ts'

const ETC_PROTOCOLS =
  'ip 0;hopopt 0;icmp 1;igmp 2;ggp 3;ipencap 4;st 5;tcp 6;egp 8;igp 9;pup 12;udp 17;hmp 20;xns-idp 22;rdp 27;' +
  'iso-tp4 29;dccp 33;xtp 36;ddp 37;idpr-cmtp 38;ipv6 41;ipv6-route 43;ipv6-frag 44;idrp 45;rsvp 46;gre 47;esp 50;' +
  'ah 51;skip 57;ipv6-icmp 58;ipv6-nonxt 59;ipv6-opts 60;rspf 73;vmtp 81;eigrp 88;ospf 89;ospfigp 89;ax.25 93;ipip 94;' +
  'etherip 97;encap 98;pim 103;ipcomp 108;vrrp 112;l2tp 115;isis 124;sctp 132;fc 133;mobility-header 135;' +
  'udplite 136;mpls-in-ip 137;manet 138;hip 139;shim6 140;wesp 141;rohc 142;ethernet 143;ip-encap 4;ipsec-esp 50;ipsec-ah 51'

const NAMES = new Map<string, number>([
  ...ETC_PROTOCOLS.split(';').map((e) => e.split(' ') as [string, string]).map(([n, v]) => [n, Number(v)] as const),
  // xtables_chain_protos
  ['icmpv6', 58], ['mh', 135], ['ipv6-mh', 135], ['all', 0],
])

/** A protocol number from a name or number, case-insensitive like iptables; `all` (and `ip`) is 0. */
export function parseProto(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text)
    if (n > 255) throw new OptionError(`invalid protocol ${text}`)
    return n
  }
  const n = NAMES.get(text.toLowerCase())
  if (n === undefined) throw new OptionError(`unknown protocol ${JSON.stringify(text)}`)
  return n
}

/** `tcp`, `icmpv6`, `all`, or the number. */
export function protoLabel(n: number): string {
  return n === 0 ? 'all' : protoName(n)
}
