/** `-m hl` (IPv6): --hl-eq/--hl-lt/--hl-gt on the hop limit; semantics in util/hoplimit.ts (xt_hl.c hl_mt). */
import {hopLimitMatch} from './util/hoplimit.ts'

export const hl = hopLimitMatch('hl', 6, 'hop limit')
