/**
 * `-m state [!] --state LIST`: the older state match: INVALID, NEW, ESTABLISHED, RELATED, UNTRACKED, without the
 * SNAT/DNAT virtual states (net/netfilter/xt_state.c; `!` is the complemented mask iptables stores).
 */
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {parseStates, stateBits, stateSentence} from './util/ctstate.ts'
import {optionTable, value} from './util/options.ts'

const table = optionTable({state: 1})

export const state: MatchKind<Check[]> = {
  name: 'state',
  options: table.names,
  parse(opts) {
    const o = table.read(opts).get('state')
    if (!o) throw new OptionError('state match needs --state')
    const mask = parseStates(value(o), ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED'])
    return [optionCheck(o, ({pkt}) => (stateBits(pkt, false) & mask) !== 0, ({pkt}, fact) => stateSentence(pkt, false, mask, fact))]
  },
  eval: runChecks,
  explain: explainChecks,
}
