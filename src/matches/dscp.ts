/**
 * `-m dscp [!] --dscp N | --dscp-class NAME`: (tos >> 2) == dscp, IPv4 TOS or IPv6 traffic class
 * (net/netfilter/xt_dscp.c dscp_mt; class names from iptables extensions/dscp_helper.c).
 */
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {hex, parseUint} from './util/numbers.ts'
import {optionTable, value} from './util/options.ts'

const table = optionTable({'dscp': 1, 'dscp-class': 1})

const CLASSES: Record<string, number> = {
  CS0: 0, CS1: 8, CS2: 16, CS3: 24, CS4: 32, CS5: 40, CS6: 48, CS7: 56, BE: 0,
  AF11: 10, AF12: 12, AF13: 14, AF21: 18, AF22: 20, AF23: 22, AF31: 26, AF32: 28, AF33: 30, AF41: 34, AF42: 36, AF43: 38,
  EF: 46,
}

export const dscp: MatchKind<Check[]> = {
  name: 'dscp',
  options: table.names,
  parse(opts) {
    const given = [...table.read(opts).values()]
    if (given.length !== 1) throw new OptionError('dscp match takes exactly one of --dscp, --dscp-class')
    const o = given[0]!
    const want = o.name === 'dscp' ? parseUint(value(o), 63, 'dscp') : CLASSES[value(o).toUpperCase()]
    if (want === undefined) throw new OptionError(`unknown DSCP class ${JSON.stringify(value(o))}`)
    return [optionCheck(o, ({pkt}) => pkt.tos >> 2 === want,
      ({pkt}, fact) => `dscp ${hex(pkt.tos >> 2)} (tos ${hex(pkt.tos)}) ${fact ? 'is' : 'is not'} ${hex(want)}`)]
  },
  eval: runChecks,
  explain: explainChecks,
}
