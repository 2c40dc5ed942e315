/** `-m mark [!] --mark value[/mask]`: (skb->mark & mask) == value (net/netfilter/xt_mark.c mark_mt). */
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {maskedText, parseValueMask} from './util/numbers.ts'
import {optionTable, value} from './util/options.ts'

const table = optionTable({mark: 1})

export const mark: MatchKind<Check[]> = {
  name: 'mark',
  options: table.names,
  parse(opts) {
    const o = table.read(opts).get('mark')
    if (!o) throw new OptionError('mark match needs --mark')
    const vm = parseValueMask(value(o), 'mark')
    return [optionCheck(o, ({pkt}) => ((pkt.mark & vm.mask) >>> 0) === vm.value, ({pkt}, fact) => maskedText('mark', pkt.mark, vm, fact))]
  },
  eval: runChecks,
  explain: explainChecks,
}
