/**
 * `-m pkttype [!] --pkt-type unicast|broadcast|multicast`: the link-layer packet type the receiving device set
 * (net/netfilter/xt_pkttype.c). PacketState.pktType holds it; the kernel's fix-up for looped-back local copies
 * (PACKET_LOOPBACK: IPv4 multicast destination or any IPv6 → multicast, else broadcast) is the engine's to apply
 * when it sets the field.
 */
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {optionTable, value} from './util/options.ts'

const table = optionTable({'pkt-type': 1})

/** libxt_pkttype.c names and aliases; `unicast` is PACKET_HOST. */
const TYPES: Record<string, 'unicast' | 'broadcast' | 'multicast'> = {
  unicast: 'unicast', host: 'unicast', broadcast: 'broadcast', bcast: 'broadcast', multicast: 'multicast', mcast: 'multicast',
}

export const pkttype: MatchKind<Check[]> = {
  name: 'pkttype',
  options: table.names,
  parse(opts) {
    const o = table.read(opts).get('pkt-type')
    if (!o) throw new OptionError('pkttype match needs --pkt-type')
    const want = TYPES[value(o).toLowerCase()]
    if (!want) throw new OptionError(`unknown packet type ${JSON.stringify(value(o))}`)
    return [optionCheck(o, ({pkt}) => pkt.pktType === want, ({pkt}, fact) => `packet type ${pkt.pktType} ${fact ? 'is' : 'is not'} ${want}`)]
  },
  eval: runChecks,
  explain: explainChecks,
}
