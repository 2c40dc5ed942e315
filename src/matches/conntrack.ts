/**
 * `-m conntrack` (revision 3), tests in the kernel's order (net/netfilter/xt_conntrack.c conntrack_mt): --ctstate
 * (with the SNAT/DNAT virtual states); then, without a conntrack entry, the match is the --ctstate result if the rule
 * has one and false otherwise; then --ctdir, --ctorigsrc/--ctorigdst/--ctreplsrc/--ctrepldst (masked), --ctproto,
 * the four port ranges (tuple port; 0 for protocols without ports), --ctstatus (any listed bit), --ctexpire.
 */
import {CT_STATUS, type CtView, type EvalContext} from '../engine/state.ts'
import {cidrContains} from '../net/addr.ts'
import {OptionError, type MatchKind, type MatchVerdict, type OptionArg} from './types.ts'
import {prefixOf} from './util/address.ts'
import {explainChecks, optionCheck, precondition, runChecks, type Check} from './util/checks.ts'
import {parseStates, stateBits, stateSentence, trackedCt, noEntryReason} from './util/ctstate.ts'
import {is} from './util/negate.ts'
import {noNegation, optionTable, value} from './util/options.ts'
import {parseProto, protoLabel} from './util/proto.ts'
import {inRange, parseRange, rangeSentence} from './util/range.ts'

const table = optionTable({
  ctstate: 1, ctproto: 1, ctorigsrc: 1, ctorigdst: 1, ctreplsrc: 1, ctrepldst: 1,
  ctorigsrcport: 1, ctorigdstport: 1, ctreplsrcport: 1, ctrepldstport: 1, ctstatus: 1, ctexpire: 1, ctdir: 1,
})

export interface ConntrackSpec {
  /** Tests when the packet has a conntrack entry. */
  readonly withEntry: readonly Check[]
  /** Tests without one: the --ctstate test alone, or a failing "no entry" test. */
  readonly withoutEntry: readonly Check[]
}

/** The entry; only called from tests that run when there is one. */
function entry(ctx: EvalContext): CtView {
  return trackedCt(ctx.pkt)!
}

const TUPLE_FIELDS = {
  ctorigsrc: ['orig', 'src', 'original source'],
  ctorigdst: ['orig', 'dst', 'original destination'],
  ctreplsrc: ['reply', 'src', 'reply source'],
  ctrepldst: ['reply', 'dst', 'reply destination'],
} as const

const PORT_FIELDS = {
  ctorigsrcport: ['orig', 'sport', 'original source port'],
  ctorigdstport: ['orig', 'dport', 'original destination port'],
  ctreplsrcport: ['reply', 'sport', 'reply source port'],
  ctrepldstport: ['reply', 'dport', 'reply destination port'],
} as const

/** The --ctstatus names libxt_conntrack accepts (NONE = no bit: never matches unless negated). */
const STATUS_NAMES = {NONE: 0, EXPECTED: CT_STATUS.EXPECTED, SEEN_REPLY: CT_STATUS.SEEN_REPLY, ASSURED: CT_STATUS.ASSURED, CONFIRMED: CT_STATUS.CONFIRMED}

function statusText(bits: number): string {
  const names = Object.entries(CT_STATUS).filter(([, b]) => bits & b).map(([n]) => n)
  return names.length ? names.join(',') : 'NONE'
}

function addrCheck(o: OptionArg, family: 4 | 6, [dir, field, label]: readonly ['orig' | 'reply', 'src' | 'dst', string]): Check {
  const c = prefixOf(value(o), family, o.text)
  const addr = (ctx: EvalContext) => entry(ctx)[dir][field]
  return optionCheck(o, (ctx) => cidrContains(c, addr(ctx)), (ctx, fact) => `${label} ${addr(ctx).text} ${is(fact)} in ${c.text}`)
}

function portCheck(o: OptionArg, [dir, field, label]: readonly ['orig' | 'reply', 'sport' | 'dport', string]): Check {
  const r = parseRange(value(o), 65535, 'port', {reversed: true})
  const port = (ctx: EvalContext): number => entry(ctx)[dir][field] ?? 0
  return optionCheck(o, (ctx) => inRange(r, port(ctx)), (ctx, fact) => rangeSentence(label, port(ctx), r, fact))
}

function statusCheck(o: OptionArg): Check {
  let mask = 0
  for (const n of value(o).split(',')) {
    const b = STATUS_NAMES[n.toUpperCase() as keyof typeof STATUS_NAMES]
    if (b === undefined) throw new OptionError(`unknown conntrack status ${JSON.stringify(n)}`)
    mask |= b
  }
  return optionCheck(o, (ctx) => (entry(ctx).status & mask) !== 0,
    (ctx, fact) => `status ${statusText(entry(ctx).status)} has ${fact ? 'one' : 'none'} of ${statusText(mask)}`)
}

/**
 * A snapshot entry knows its timeout; an entry this trace created does not (the kernel would count from the
 * protocol's timeout): the test is then assumed to hold, and the result says so.
 */
function expireCheck(o: OptionArg): Check {
  const r = parseRange(value(o), 0xffffffff, 'expire', {reversed: true})
  const text = r.lo === r.hi ? String(r.lo) : `${r.lo}:${r.hi}`
  return optionCheck(o, (ctx) => {
    const left = entry(ctx).expires
    return left === undefined || inRange(r, left)
  }, (ctx, fact) => {
    const left = entry(ctx).expires
    return left === undefined ? `remaining lifetime unknown, assumed in ${text}s` : rangeSentence('remaining lifetime (s)', left, r, fact)
  }, (ctx) => entry(ctx).expires === undefined ? `the connection's remaining lifetime is unknown: assumed within ${text}s` : undefined)
}

function ctstateCheck(o: OptionArg): Check {
  const mask = parseStates(value(o), ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED', 'SNAT', 'DNAT'])
  return optionCheck(o, ({pkt}) => (stateBits(pkt, true) & mask) !== 0, ({pkt}, fact) => stateSentence(pkt, true, mask, fact))
}

function protoCheck(o: OptionArg): Check {
  const p = parseProto(value(o))
  return optionCheck(o, (ctx) => entry(ctx).orig.proto === p,
    (ctx, fact) => `connection protocol ${protoLabel(entry(ctx).orig.proto)} ${is(fact)} ${protoLabel(p)}`)
}

function dirCheck(o: OptionArg): Check {
  noNegation(o)
  const dir = value(o).toUpperCase()
  if (dir !== 'ORIGINAL' && dir !== 'REPLY') throw new OptionError(`${o.text}: the direction is ORIGINAL or REPLY`)
  return optionCheck(o, (ctx) => entry(ctx).dir === dir, (ctx, fact) => `direction ${entry(ctx).dir} ${is(fact)} ${dir}`)
}

export const conntrack: MatchKind<ConntrackSpec> = {
  name: 'conntrack',
  options: table.names,
  parse(opts, pctx) {
    const m = table.read(opts)
    const checks: Check[] = []
    const st = m.get('ctstate')
    const stateCheck = st ? ctstateCheck(st) : undefined
    if (stateCheck) checks.push(stateCheck)
    const dir = m.get('ctdir')
    if (dir) checks.push(dirCheck(dir))
    for (const [n, f] of Object.entries(TUPLE_FIELDS)) {
      const o = m.get(n)
      if (o) checks.push(addrCheck(o, pctx.family, f))
    }
    const proto = m.get('ctproto')
    if (proto) checks.push(protoCheck(proto))
    for (const [n, f] of Object.entries(PORT_FIELDS)) {
      const o = m.get(n)
      if (o) checks.push(portCheck(o, f))
    }
    const status = m.get('ctstatus')
    if (status) checks.push(statusCheck(status))
    const expire = m.get('ctexpire')
    if (expire) checks.push(expireCheck(expire))

    // Named on success too: the kernel's early return is part of why it matched.
    const skipped: Check = {test: () => true, negated: false, text: '', say: () => 'without a conntrack entry the other conntrack tests are not made'}
    const withoutEntry: Check[] = stateCheck
      ? [stateCheck, ...(checks.length > 1 ? [skipped] : [])]
      : [precondition(() => false, ({pkt}) => `no conntrack entry (${noEntryReason(pkt)}), so only --ctstate could match`)]
    return {withEntry: checks, withoutEntry}
  },
  eval(spec, ctx): MatchVerdict {
    return runChecks(trackedCt(ctx.pkt) ? spec.withEntry : spec.withoutEntry, ctx)
  },
  explain(spec, ctx, ok) {
    return explainChecks(trackedCt(ctx.pkt) ? spec.withEntry : spec.withoutEntry, ctx, ok)
  },
}
