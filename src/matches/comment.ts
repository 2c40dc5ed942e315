/** `-m comment --comment TEXT`: always matches (net/netfilter/xt_comment.c). */
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, runChecks, type Check} from './util/checks.ts'
import {noNegation, optionTable, value} from './util/options.ts'

const table = optionTable({comment: 1})

export const comment: MatchKind<Check[]> = {
  name: 'comment',
  options: table.names,
  parse(opts) {
    const o = table.read(opts).get('comment')
    if (!o) throw new OptionError('comment match needs --comment')
    noNegation(o)
    const text = value(o)
    return [{test: () => true, negated: false, text: o.text, say: () => `comment ${JSON.stringify(text)} (always matches)`}]
  },
  eval: runChecks,
  explain: explainChecks,
}
