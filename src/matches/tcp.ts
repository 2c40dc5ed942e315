/**
 * `-m tcp`: --sport/--dport ranges, --tcp-flags MASK COMP ((flags & MASK) == COMP), --syn, --tcp-option N, each
 * `expr ^ invert`, in the kernel's order; a non-first fragment never matches (net/netfilter/xt_tcpudp.c tcp_mt).
 */
import {PROTO, TCP_FLAGS, tcpFlagsText} from '../model/packet.ts'
import {OptionError, type MatchKind, type OptionArg} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {parseUint} from './util/numbers.ts'
import {optionTable, value} from './util/options.ts'
import {l4Header, portCheck} from './util/ports.ts'

const table = optionTable(
  {'sport': 1, 'dport': 1, 'tcp-flags': 2, 'syn': 0, 'tcp-option': 1},
  {'source-port': 'sport', 'destination-port': 'dport'},
)

/** Flag names libxt_tcp accepts (case-insensitive); ALL is the six classic flags, ECE/CWR have no name there. */
const FLAG_NAMES: Record<string, number> = {...TCP_FLAGS, ALL: 0x3f, NONE: 0}
delete FLAG_NAMES.ECE
delete FLAG_NAMES.CWR

function parseFlags(text: string): number {
  let bits = 0
  for (const n of text.split(',')) {
    const b = FLAG_NAMES[n.toUpperCase()]
    if (b === undefined) throw new OptionError(`unknown TCP flag ${JSON.stringify(n)}`)
    bits |= b
  }
  return bits
}

function flagsCheck(o: OptionArg, mask: number, comp: number): Check {
  return optionCheck(o, ({pkt}) => ((pkt.tcpFlags ?? 0) & mask) === comp, ({pkt}, fact) => {
    const f = pkt.tcpFlags ?? 0
    return `flags ${tcpFlagsText(f)} & ${tcpFlagsText(mask)} = ${tcpFlagsText(f & mask)} ${fact ? 'equals' : 'does not equal'} ${tcpFlagsText(comp)}`
  })
}

/**
 * The packet's TCP options are not part of the model: the test is made as if the packet carried none, and says so.
 */
function optionPresenceCheck(o: OptionArg): Check {
  const kind = parseUint(value(o), 255, 'TCP option')
  return optionCheck(o, () => false, (_, fact) => `TCP option ${kind} ${fact ? 'is' : 'is not'} present (assumed: TCP options are not modelled)`,
    () => `the packet is assumed to carry no TCP option ${kind} (TCP options are not modelled)`)
}

export const tcp: MatchKind<Check[]> = {
  name: 'tcp',
  options: table.names,
  parse(opts, pctx) {
    if (pctx.proto !== PROTO.tcp) throw new OptionError('tcp match needs -p tcp')
    const m = table.read(opts)
    const flags = m.get('tcp-flags')
    const syn = m.get('syn')
    if (flags && syn) throw new OptionError('--syn and --tcp-flags cannot be combined')
    const option = m.get('tcp-option')
    const checks: Check[] = [l4Header(PROTO.tcp)]
    for (const field of ['sport', 'dport'] as const) {
      const o = m.get(field)
      if (o) checks.push(portCheck(o, field))
    }
    if (flags) checks.push(flagsCheck(flags, parseFlags(flags.values[0]!), parseFlags(flags.values[1]!)))
    // --syn is --tcp-flags FIN,SYN,RST,ACK SYN (libxt_tcp.c).
    if (syn) checks.push(flagsCheck(syn, TCP_FLAGS.FIN | TCP_FLAGS.SYN | TCP_FLAGS.RST | TCP_FLAGS.ACK, TCP_FLAGS.SYN))
    if (option) checks.push(optionPresenceCheck(option))
    return checks
  },
  eval: runChecks,
  explain: explainChecks,
}
