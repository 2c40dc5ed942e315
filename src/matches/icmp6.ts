/** `-m icmp6 [!] --icmpv6-type type[/code]|name` (IPv6, no `any`); semantics in util/icmp.ts. */
import {PROTO} from '../model/packet.ts'
import {ICMPV6_NAMES, icmpMatch} from './util/icmp.ts'

export const icmp6 = icmpMatch('icmp6', 'icmpv6-type', PROTO.icmpv6, 6, ICMPV6_NAMES)
