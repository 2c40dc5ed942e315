/**
 * `-m connmark [!] --mark value[/mask]`: (ct->mark & mask) == value; without a conntrack entry (INVALID, untracked,
 * or conntrack not run yet) the match is false even with `!` (net/netfilter/xt_connmark.c connmark_mt).
 */
import type {PacketState} from '../engine/state.ts'
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, precondition, runChecks, type Check} from './util/checks.ts'
import {noEntryReason, trackedCt} from './util/ctstate.ts'
import {maskedText, parseValueMask} from './util/numbers.ts'
import {optionTable, value} from './util/options.ts'

const table = optionTable({mark: 1})

export const connmark: MatchKind<Check[]> = {
  name: 'connmark',
  options: table.names,
  parse(opts) {
    const o = table.read(opts).get('mark')
    if (!o) throw new OptionError('connmark match needs --mark')
    const vm = parseValueMask(value(o), 'mark')
    const ctmark = (pkt: PacketState): number => trackedCt(pkt)?.mark ?? 0
    return [
      precondition(({pkt}) => trackedCt(pkt) !== undefined, ({pkt}) => `no conntrack entry (${noEntryReason(pkt)}), so connmark cannot match`),
      optionCheck(o, ({pkt}) => ((ctmark(pkt) & vm.mask) >>> 0) === vm.value, ({pkt}, fact) => maskedText('ctmark', ctmark(pkt), vm, fact)),
    ]
  },
  eval: runChecks,
  explain: explainChecks,
}
