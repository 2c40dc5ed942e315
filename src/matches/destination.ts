/** `[!] -d addr[/mask]`: the packet's destination address is in the prefix (ip_tables.c / ip6_tables.c *_packet_match). */
import {addressMatch} from './util/header.ts'

export const destination = addressMatch('dst', 'd', 'destination', 'dst', 'destination')
