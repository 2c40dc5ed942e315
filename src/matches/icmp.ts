/** `-m icmp [!] --icmp-type type[/code]|name|any` (IPv4); semantics in util/icmp.ts. */
import {PROTO} from '../model/packet.ts'
import {ICMP_NAMES, icmpMatch} from './util/icmp.ts'

export const icmp = icmpMatch('icmp', 'icmp-type', PROTO.icmp, 4, ICMP_NAMES)
