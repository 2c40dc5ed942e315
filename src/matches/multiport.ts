/**
 * `-m multiport [!] --sports|--dports|--ports LIST`: up to 15 ports, `a:b` ranges counting twice; `--ports` matches
 * when either port is listed. Any hit → !invert, no hit → invert; a non-first fragment never matches
 * (net/netfilter/xt_multiport.c ports_match_v1, multiport_mt).
 */
import type {EvalContext} from '../engine/state.ts'
import {PROTO, protoName} from '../model/packet.ts'
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {is} from './util/negate.ts'
import {optionTable, value} from './util/options.ts'
import {inPortList, l4Header, parsePortList, portListText} from './util/ports.ts'

const table = optionTable({sports: 1, dports: 1, ports: 1}, {'source-ports': 'sports', 'destination-ports': 'dports'})

/** xt_multiport.c check(): protocols with ports. */
const PORT_PROTOS: readonly number[] = [PROTO.tcp, PROTO.udp, PROTO.udplite, PROTO.sctp, PROTO.dccp]

export const multiport: MatchKind<Check[]> = {
  name: 'multiport',
  options: table.names,
  parse(opts, pctx) {
    if (pctx.proto === undefined || !PORT_PROTOS.includes(pctx.proto)) {
      throw new OptionError(`multiport needs -p ${PORT_PROTOS.map(protoName).join('|')}`)
    }
    const given = [...table.read(opts).entries()]
    if (given.length !== 1) throw new OptionError('multiport takes exactly one of --sports, --dports, --ports')
    const [name, o] = given[0]!
    const list = parsePortList(value(o))
    const rule = portListText(list)
    const sport = (ctx: EvalContext): number => ctx.pkt.sport ?? 0
    const dport = (ctx: EvalContext): number => ctx.pkt.dport ?? 0
    const check = name === 'ports'
      ? optionCheck(o, (ctx) => inPortList(list, sport(ctx)) || inPortList(list, dport(ctx)),
        (ctx, fact) => `${fact ? 'sport or dport' : 'neither sport nor dport'} of ${sport(ctx)} -> ${dport(ctx)} is in ${rule}`)
      : optionCheck(o, (ctx) => inPortList(list, (name === 'sports' ? sport : dport)(ctx)),
        (ctx, fact) => `${name.slice(0, -1)} ${(name === 'sports' ? sport : dport)(ctx)} ${is(fact)} in ${rule}`)
    return [l4Header(pctx.proto), check]
  },
  eval: runChecks,
  explain: explainChecks,
}
