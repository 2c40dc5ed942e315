/** `[!] -s addr[/mask]`: the packet's source address is in the prefix (ip_tables.c / ip6_tables.c *_packet_match). */
import {addressMatch} from './util/header.ts'

export const source = addressMatch('src', 's', 'source', 'src', 'source')
