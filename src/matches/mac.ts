/**
 * `-m mac [!] --mac-source XX:XX:XX:XX:XX:XX`: the Ethernet source address. The kernel allows the match only in
 * PREROUTING, INPUT and FORWARD, and a packet whose device is not Ethernet (loopback) never matches, even with `!`
 * (net/netfilter/xt_mac.c mac_mt). A packet given without a source MAC is assumed to come from another MAC.
 */
import type {HookName} from '../model/ruleset.ts'
import {OptionError, type MatchKind} from './types.ts'
import {explainChecks, optionCheck, precondition, runChecks, type Check} from './util/checks.ts'
import {optionTable, value} from './util/options.ts'

const table = optionTable({'mac-source': 1})
const HOOKS: readonly string[] = ['PREROUTING', 'INPUT', 'FORWARD'] satisfies HookName[]

export const mac: MatchKind<Check[]> = {
  name: 'mac',
  options: table.names,
  parse(opts, pctx) {
    const o = table.read(opts).get('mac-source')
    if (!o) throw new OptionError('mac match needs --mac-source')
    const want = value(o).toLowerCase()
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(want)) throw new OptionError(`invalid MAC address ${JSON.stringify(value(o))}`)
    if (['OUTPUT', 'POSTROUTING'].includes(pctx.chain)) throw new OptionError(`mac match is only valid in ${HOOKS.join('/')}`)
    return [
      precondition(({hook, pkt}) => HOOKS.includes(hook) && pkt.iif !== 'lo',
        ({hook}) => HOOKS.includes(hook) ? 'the packet came in on lo: no Ethernet header to match' : `the mac match cannot run at ${hook}`),
      optionCheck(o, ({pkt}) => pkt.srcMac?.toLowerCase() === want,
        ({pkt}, fact) => pkt.srcMac === undefined ? `source MAC unknown, assumed not ${want}` : `source MAC ${pkt.srcMac.toLowerCase()} ${fact ? 'is' : 'is not'} ${want}`,
        ({pkt}) => pkt.srcMac === undefined ? `the packet's source MAC is not given: assumed not ${want}` : undefined),
    ]
  },
  eval: runChecks,
  explain: explainChecks,
}
