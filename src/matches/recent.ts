/**
 * `-m recent` (net/netfilter/xt_recent.c): named lists of addresses (source by default, `--rdest` for the
 * destination), masked with `--mask`. `--set` adds/refreshes the address and always matches; `--rcheck` and
 * `--update` match when the address is listed (with `--seconds`/`--hitcount` limiting which hits count);
 * `--remove` matches when listed and removes it. `!` on the command inverts the answer.
 * The lists are not in a snapshot: their contents come from assume.recent (name → addresses), default empty.
 * Simplification: an address `--set` adds is not seen by later recent rules of the same path.
 */
import {AddrError, fromBytes, parseAddr, type IpAddr} from '../net/addr.ts'
import {OptionError, type MatchKind} from './types.ts'
import {optionTable, value} from './util/options.ts'
import {parseUint} from './util/numbers.ts'
import {withNegation} from './util/negate.ts'

type Command = 'set' | 'rcheck' | 'update' | 'remove'

export interface RecentSpec {
  command: Command
  invert: boolean
  text: string
  name: string
  side: 'src' | 'dst'
  mask?: IpAddr
  /** --seconds / --hitcount / --reap / --rttl, as written: conditions we cannot evaluate. */
  timing: string[]
}

const COMMANDS: Command[] = ['set', 'rcheck', 'update', 'remove']

const table = optionTable({set: 0, rcheck: 0, update: 0, remove: 0, name: 1, rsource: 0, rdest: 0, mask: 1, seconds: 1, hitcount: 1, reap: 0, rttl: 0})

function masked(a: IpAddr, mask: IpAddr | undefined): string {
  if (!mask || mask.family !== a.family) return a.text
  return fromBytes(a.family, a.bytes.map((b, i) => b & mask.bytes[i]!)).text
}

export const recent: MatchKind<RecentSpec> = {
  name: 'recent',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    const cmds = COMMANDS.filter((c) => o.has(c))
    if (cmds.length !== 1) throw new OptionError('give exactly one of --set, --rcheck, --update, --remove')
    const cmd = o.get(cmds[0]!)!
    for (const x of o.values()) if (x !== cmd && x.negated) throw new OptionError(`${x.text}: cannot be negated`)
    let mask: IpAddr | undefined
    if (o.has('mask')) {
      try {
        mask = parseAddr(value(o.get('mask')!))
      } catch (e) {
        throw new OptionError(e instanceof AddrError ? e.message : String(e))
      }
    }
    if (o.has('seconds')) parseUint(value(o.get('seconds')!), 0xffffffff, '--seconds')
    if (o.has('hitcount')) parseUint(value(o.get('hitcount')!), 0xffffffff, '--hitcount')
    const timing = (['seconds', 'hitcount', 'reap', 'rttl'] as const).filter((k) => o.has(k)).map((k) => o.get(k)!.text)
    return {
      command: cmds[0]!, invert: cmd.negated, text: cmd.text, name: o.has('name') ? value(o.get('name')!) : 'DEFAULT',
      side: o.has('rdest') ? 'dst' : 'src', mask, timing,
    }
  },
  eval(spec, ctx) {
    const addr = masked(ctx.pkt[spec.side], spec.mask)
    const label = `${spec.side === 'src' ? 'source' : 'destination'} ${addr}${spec.mask ? ` (masked with ${spec.mask.text})` : ''}`
    if (spec.command === 'set') return {ok: !spec.invert, detail: `--set adds ${label} to list ${spec.name} and always matches`}
    const list = ctx.pkt.assume.recent?.[spec.name]
    let listed = false
    for (const t of list ?? []) {
      try {
        if (masked(parseAddr(t), spec.mask) === addr) listed = true
      } catch {
        // An assume entry that is not an address cannot be listed.
      }
    }
    const source = list ? `assume.recent.${spec.name}` : `no contents known for list ${spec.name}, assumed empty (set assume.recent.${spec.name})`
    const timing = spec.timing.length && listed ? `; ${spec.timing.join(' ')} assumed satisfied` : ''
    const assumed = `${source}${timing}`
    return {ok: listed !== spec.invert, assumed, detail: `${label} ${listed ? 'is' : 'is not'} in recent list ${spec.name} (${assumed})`}
  },
  explain(spec, _ctx, ok, detail) {
    return withNegation(detail ?? `recent ${spec.name}`, spec.invert, ok, spec.text)
  },
}
