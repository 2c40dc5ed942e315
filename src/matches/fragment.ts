/**
 * `[!] -f`: the packet is an IPv4 fragment other than the first (frag_off & IP_OFFSET != 0, ip_tables.c
 * ip_packet_match). ip6tables has no -f (it uses -m frag).
 */
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {optionTable} from './util/options.ts'

const table = optionTable({f: 0}, {fragment: 'f'})

export const fragment: MatchKind<Check[]> = {
  name: 'frag',
  options: table.names,
  parse(opts, pctx) {
    if (pctx.family !== 4) throw new OptionError('-f is IPv4 only (ip6tables uses -m frag)')
    const o = table.read(opts).get('f')
    if (!o) throw new OptionError('-f missing')
    return [optionCheck(o, ({pkt}) => pkt.fragment, (_, fact) => `the packet ${fact ? 'is' : 'is not'} a non-first fragment`)]
  },
  eval: runChecks,
  explain: explainChecks,
}
