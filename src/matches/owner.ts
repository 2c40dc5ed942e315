/**
 * `-m owner` (net/netfilter/xt_owner.c), OUTPUT/POSTROUTING only: the sending socket's file credentials.
 * Without a socket (received or forwarded packets) the match succeeds only if every given test is negated
 * (`(match ^ invert) == 0`). With one, `! --socket-exists` fails and each uid/gid range test must hold ^ `!`.
 * Credentials are not in a snapshot: assume.uid / assume.gid; when absent the match is taken as not matching.
 */
import {OptionError, type MatchKind, type OptionArg} from './types.ts'
import {optionTable, value} from './util/options.ts'
import {parseUint} from './util/numbers.ts'
import {withNegation} from './util/negate.ts'
import type {EvalContext} from '../engine/state.ts'

interface IdTest {
  field: 'uid' | 'gid'
  lo: number
  hi: number
  negated: boolean
  text: string
}

export interface OwnerSpec {
  socketExists?: {negated: boolean; text: string}
  ids: IdTest[]
  supplGroups: boolean
}

const table = optionTable({'uid-owner': 1, 'gid-owner': 1, 'socket-exists': 0, 'suppl-groups': 0})

function idRange(o: OptionArg, field: 'uid' | 'gid'): IdTest {
  const [a, b, extra] = value(o).split('-')
  if (extra !== undefined) throw new OptionError(`${o.text}: bad range`)
  // iptables-save prints numbers; user/group names would need the node's passwd database.
  const lo = parseUint(a!, 0xfffffffe, `${o.text} (names are not resolved)`)
  const hi = b === undefined ? lo : parseUint(b, 0xfffffffe, o.text)
  return {field, lo, hi, negated: o.negated, text: o.text}
}

function evaluate(spec: OwnerSpec, ctx: EvalContext): {ok: boolean; assumed?: string; detail: string} {
  const tests = [...(spec.socketExists ? [spec.socketExists] : []), ...spec.ids]
  if (!ctx.pkt.local) {
    const ok = tests.every((t) => t.negated)
    return {ok, detail: `the packet has no local socket (not locally generated), so ${ok ? 'every test is negated and it matches' : 'a non-negated owner test fails'}`}
  }
  if (spec.socketExists?.negated) return {ok: false, detail: 'a locally generated packet has a socket, but the rule says ! --socket-exists'}
  const parts: string[] = ['locally generated: assumed to have a socket']
  for (const t of spec.ids) {
    const id = ctx.pkt.assume[t.field]
    if (id === undefined) {
      return {ok: false, assumed: `the ${t.field} of the sending socket is unknown; assumed not to match (set assume.${t.field})`, detail: `${t.field} of the sending socket unknown for ${t.text}`}
    }
    const inRange = id >= t.lo && id <= t.hi
    const range = t.lo === t.hi ? `${t.lo}` : `${t.lo}-${t.hi}`
    const say = withNegation(`${t.field} ${id} ${inRange ? 'is' : 'is not'} ${t.lo === t.hi ? '' : 'in '}${range}`, t.negated, inRange !== t.negated, t.text)
    parts.push(say)
    if (inRange === t.negated) return {ok: false, assumed: `${t.field} from assume.${t.field}`, detail: say}
  }
  const supp = spec.supplGroups ? '; --suppl-groups: only the assumed gid is known, no supplementary groups' : ''
  const used = spec.ids.map((t) => `assume.${t.field}`)
  return used.length ? {ok: true, assumed: `credentials from ${[...new Set(used)].join(', ')}${supp}`, detail: parts.join('; ')} : {ok: true, detail: parts.join('; ')}
}

export const owner: MatchKind<OwnerSpec> = {
  name: 'owner',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    const se = o.get('socket-exists')
    const ids = [...(o.has('uid-owner') ? [idRange(o.get('uid-owner')!, 'uid')] : []), ...(o.has('gid-owner') ? [idRange(o.get('gid-owner')!, 'gid')] : [])]
    if (!se && !ids.length) throw new OptionError('owner needs --uid-owner, --gid-owner or --socket-exists')
    if (o.get('suppl-groups')?.negated) throw new OptionError('--suppl-groups cannot be negated')
    return {socketExists: se ? {negated: se.negated, text: se.text} : undefined, ids, supplGroups: o.has('suppl-groups')}
  },
  eval(spec, ctx) {
    const r = evaluate(spec, ctx)
    return r.assumed ? {ok: r.ok, assumed: r.assumed, detail: r.detail} : {ok: r.ok, detail: r.detail}
  },
  explain: (_spec, _ctx, _ok, detail) => detail ?? 'owner',
}
