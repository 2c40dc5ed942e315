/**
 * Option helpers shared by target modules: reading a target's options once with arity and duplicate checks,
 * iptables' number syntax, `value[/mask]`, and the note a target adds when its table/hook would have been refused.
 */
import {OptionError, type OptionArg} from '../matches/types.ts'
import type {EvalContext} from '../engine/state.ts'
import type {HookName} from '../model/ruleset.ts'
import {AddrError, parseAddr, parseCidr, type Cidr, type Family, type IpAddr} from '../net/addr.ts'
import type {Effect} from './types.ts'

/**
 * The options of one target as name → values. `arity` gives how many values each accepted option takes; a
 * target option cannot be negated, and each may appear once (iptables: "multiple --x flags not allowed").
 */
export function readOptions(target: string, opts: OptionArg[], arity: Record<string, number>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const o of opts) {
    const n = arity[o.name]
    if (n === undefined) throw new OptionError(`${target} has no option --${o.name}`)
    if (o.negated) throw new OptionError(`${o.text}: ${target} options cannot be negated`)
    if (o.values.length !== n) throw new OptionError(`${o.text}: expects ${n === 0 ? 'no value' : n === 1 ? 'one value' : `${n} values`}`)
    if (out.has(o.name)) throw new OptionError(`--${o.name} given twice`)
    out.set(o.name, o.values)
  }
  return out
}

/** An unsigned number as xtables_strtoui reads it (strtoul base 0: `0x` hex, leading `0` octal, else decimal). */
export function parseUint(text: string, max: number, what: string): number {
  const m = /^(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/.exec(text)
  const v = !m ? NaN : m[1] !== undefined ? parseInt(m[1], 16) : m[2] !== undefined ? parseInt(m[2], 8) : Number(m[3])
  if (!Number.isSafeInteger(v) || v > max) throw new OptionError(`bad ${what} ${JSON.stringify(text)} (0-${max})`)
  return v
}

/** `value[/mask]` (MARK, CONNMARK, TOS, TPROXY): mask is undefined when not written; `max` bounds both. */
export function parseValueMask(text: string, max: number, what: string): {value: number; mask?: number} {
  const slash = text.indexOf('/')
  if (slash < 0) return {value: parseUint(text, max, what)}
  return {value: parseUint(text.slice(0, slash), max, what), mask: parseUint(text.slice(slash + 1), max, `${what} mask`)}
}

/** An address or prefix option of the rule's family; address errors become OptionError. */
function familyChecked<T extends {family: Family}>(parse: (t: string) => T, text: string, family: Family, what: string): T {
  let v: T
  try {
    v = parse(text)
  } catch (e) {
    if (e instanceof AddrError) throw new OptionError(`${what}: ${e.message}`)
    throw e
  }
  if (v.family !== family) throw new OptionError(`${what} ${text} is not IPv${family}`)
  return v
}

export function parseAddrOption(text: string, family: Family, what: string): IpAddr {
  return familyChecked(parseAddr, text, family, what)
}

export function parseCidrOption(text: string, family: Family, what: string): Cidr {
  return familyChecked(parseCidr, text, family, what)
}

/** `0x10`: a header byte (TOS, traffic class), two digits like iptables-save prints TOS. */
export function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`
}

/** `0x4000`: lower-case hex like iptables-save prints marks. */
export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`
}

/**
 * Where the kernel accepts a target (checkentry's `.table` and `.hooks`). The walker also runs rulesets that
 * iptables-restore would have refused (hand-written files): the target still acts, and says so.
 */
export function placementNotes(ctx: EvalContext, target: string, where: {table?: string; hooks?: readonly HookName[]}, source: string): Effect[] {
  const problems: string[] = []
  if (where.table && ctx.table !== where.table) problems.push(`only valid in the ${where.table} table (here: ${ctx.table})`)
  if (where.hooks && !where.hooks.includes(ctx.hook)) problems.push(`only valid at ${where.hooks.join('/')} (here: ${ctx.hook})`)
  if (!problems.length) return []
  return [{kind: 'note', text: `${target} is ${problems.join(' and ')}: the kernel refuses such a rule (${source}), so iptables-restore would have failed; modelled as if it had been accepted`}]
}
