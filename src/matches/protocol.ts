/**
 * `[!] -p proto`: the L4 protocol (IPv6: the upper-layer header after extension headers, ip6_tables.c
 * ip6_packet_match). Protocol 0 (`all`) skips the test, so `! -p all` also matches everything: ip_tables.c checks
 * `ipinfo->proto && FWINV(...)`, and ip6_packet_match only fails a non-zero protocol.
 */
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {optionTable, value} from './util/options.ts'
import {parseProto, protoLabel} from './util/proto.ts'

const table = optionTable({p: 1}, {protocol: 'p'})

export const protocol: MatchKind<Check[]> = {
  name: 'proto',
  options: table.names,
  parse(opts) {
    const o = table.read(opts).get('p')
    if (!o) throw new OptionError('-p needs a protocol')
    const p = parseProto(value(o))
    if (p === 0) return [{test: () => true, negated: false, text: o.text, say: () => `${o.text} matches every protocol`}]
    return [optionCheck(o, ({pkt}) => pkt.proto === p, ({pkt}, fact) => `protocol ${protoLabel(pkt.proto)} ${fact ? 'is' : 'is not'} ${protoLabel(p)}`)]
  },
  eval: runChecks,
  explain: explainChecks,
}
