/**
 * `-m length [!] --length a[:b]`: the L3 length: IPv4 total length, IPv6 payload length + 40
 * (net/netfilter/xt_length.c); PacketState.length already holds that.
 */
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {optionTable, value} from './util/options.ts'
import {inRange, parseRange, rangeSentence} from './util/range.ts'

const table = optionTable({length: 1})

export const length: MatchKind<Check[]> = {
  name: 'length',
  options: table.names,
  parse(opts) {
    const o = table.read(opts).get('length')
    if (!o) throw new OptionError('length match needs --length')
    const r = parseRange(value(o), 65535, 'length', {reversed: true})
    return [optionCheck(o, ({pkt}) => inRange(r, pkt.length), ({pkt}, fact) => rangeSentence('length', pkt.length, r, fact))]
  },
  eval: runChecks,
  explain: explainChecks,
}
