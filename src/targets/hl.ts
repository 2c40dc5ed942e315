/** `-j HL --hl-set N | --hl-dec N | --hl-inc N` (IPv6, mangle): the hop limit (net/netfilter/xt_HL.c hl_tg6). */
import {hopLimitTarget} from './ttl.ts'

export const hlTarget = hopLimitTarget('HL', 'hl', 6, 'hop limit')
