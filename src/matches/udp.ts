/** `-m udp`: --sport/--dport ranges, `expr ^ invert`; a non-first fragment never matches (xt_tcpudp.c udp_mt). */
import {PROTO} from '../model/packet.ts'
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, runChecks, type Check} from './util/checks.ts'
import {optionTable} from './util/options.ts'
import {l4Header, portCheck} from './util/ports.ts'

const table = optionTable({sport: 1, dport: 1}, {'source-port': 'sport', 'destination-port': 'dport'})

export const udp: MatchKind<Check[]> = {
  name: 'udp',
  options: table.names,
  parse(opts, pctx) {
    if (pctx.proto !== PROTO.udp) throw new OptionError('udp match needs -p udp')
    const m = table.read(opts)
    const checks: Check[] = [l4Header(PROTO.udp)]
    for (const field of ['sport', 'dport'] as const) {
      const o = m.get(field)
      if (o) checks.push(portCheck(o, field))
    }
    return checks
  },
  eval: runChecks,
  explain: explainChecks,
}
