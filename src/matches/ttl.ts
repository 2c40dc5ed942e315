/** `-m ttl` (IPv4): --ttl-eq/--ttl-lt/--ttl-gt; semantics in util/hoplimit.ts (net/netfilter/xt_hl.c ttl_mt). */
import {hopLimitMatch} from './util/hoplimit.ts'

export const ttl = hopLimitMatch('ttl', 4, 'ttl')
