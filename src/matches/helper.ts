/**
 * `-m helper [!] --helper NAME` (net/netfilter/xt_helper.c): matches packets of a connection that was *expected*
 * by a helper (e.g. ftp-data), by the helper of its master connection; name compared over the helper name's length
 * (strncmp(helper, NAME, strlen(helper))), empty NAME = any helper. No entry, no master or no helper → `!` decides.
 * The master's helper comes from the packet's conntrack view (ct.helper) or assume.helper.
 */
import {CT_STATUS} from '../engine/state.ts'
import type {MatchKind} from './types.ts'
import {optionTable, required, value} from './util/options.ts'
import {trackedCt} from './util/ctstate.ts'
import {withNegation} from './util/negate.ts'

export interface HelperSpec {
  name: string
  invert: boolean
  text: string
}

const table = optionTable({helper: 1})

export const helper: MatchKind<HelperSpec> = {
  name: 'helper',
  options: table.names,
  parse(opts) {
    const h = required(table.read(opts), 'helper')
    return {name: value(h), invert: h.negated, text: h.text}
  },
  eval(spec, ctx) {
    const ct = trackedCt(ctx.pkt)
    const expected = !!ct && (ct.state === 'RELATED' || (ct.status & CT_STATUS.EXPECTED) !== 0)
    if (!expected) {
      const say = `the packet's connection ${ct ? 'was not expected by a helper (no master connection)' : 'is not tracked'}`
      return {ok: spec.invert, detail: withNegation(say, spec.invert, spec.invert, spec.text)}
    }
    const fromCt = ct!.helper
    const name = fromCt ?? ctx.pkt.assume.helper
    if (name === undefined) {
      return {ok: spec.invert, assumed: 'the helper of the master connection is unknown; assumed none (set assume.helper)', detail: 'helper of the master connection unknown'}
    }
    const fact = spec.name === '' || spec.name.slice(0, name.length) === name
    const assumed = fromCt === undefined ? 'master helper from assume.helper' : undefined
    const detail = withNegation(`master connection helper ${name} ${fact ? 'is' : 'is not'} ${spec.name || 'any helper'}`, spec.invert, fact !== spec.invert, spec.text)
    return assumed ? {ok: fact !== spec.invert, assumed, detail} : {ok: fact !== spec.invert, detail}
  },
  explain: (_spec, _ctx, _ok, detail) => detail ?? 'helper',
}
