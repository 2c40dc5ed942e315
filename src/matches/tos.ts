/**
 * `-m tos [!] --tos value[/mask]` or a symbolic name: (tos & mask) == value, on the IPv4 TOS byte or the IPv6
 * traffic class (net/netfilter/xt_dscp.c tos_mt). A number alone has mask 0xff; a name has mask 0x3f (libxt_tos.c).
 */
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {hex, parseUint, type ValueMask} from './util/numbers.ts'
import {optionTable, value} from './util/options.ts'

const table = optionTable({tos: 1})

/** RFC 1349 names (libxt_tos.c tos_symbol_names), case-insensitive. */
const NAMES: Record<string, number> = {
  'minimize-delay': 0x10, 'maximize-throughput': 0x08, 'maximize-reliability': 0x04, 'minimize-cost': 0x02, 'normal-service': 0x00,
}

function parseTos(text: string): ValueMask {
  const named = NAMES[text.toLowerCase()]
  if (named !== undefined) return {value: named, mask: 0x3f}
  const [v, m, extra] = text.split('/')
  if (extra !== undefined) throw new OptionError(`invalid TOS ${JSON.stringify(text)}`)
  return {value: parseUint(v!, 0xff, 'tos'), mask: m === undefined ? 0xff : parseUint(m, 0xff, 'tos mask')}
}

export const tos: MatchKind<Check[]> = {
  name: 'tos',
  options: table.names,
  parse(opts) {
    const o = table.read(opts).get('tos')
    if (!o) throw new OptionError('tos match needs --tos')
    const vm = parseTos(value(o))
    return [optionCheck(o, ({pkt}) => (pkt.tos & vm.mask) === vm.value,
      ({pkt}, fact) => `tos ${hex(pkt.tos)} & ${hex(vm.mask)} = ${hex(pkt.tos & vm.mask)} ${fact ? 'equals' : 'does not equal'} ${hex(vm.value)}`)]
  },
  eval: runChecks,
  explain: explainChecks,
}
