/**
 * Reading a match's options: each module declares its option names with their number of values; this checks what
 * iptables' own parser would have refused (unknown option, an option given twice, a wrong number of values).
 */
import {OptionError, type OptionArg} from '../types.ts'

export interface OptionTable {
  /** Every accepted name, aliases included (for MatchKind.options). */
  readonly names: readonly string[]
  /** The options by canonical name. */
  read(opts: readonly OptionArg[]): Map<string, OptionArg>
}

/** `arity`: canonical name → number of values; `aliases`: other spellings (`source-port` → `sport`). */
export function optionTable(arity: Readonly<Record<string, number>>, aliases: Readonly<Record<string, string>> = {}): OptionTable {
  return {
    names: [...Object.keys(arity), ...Object.keys(aliases)],
    read(opts) {
      const out = new Map<string, OptionArg>()
      for (const o of opts) {
        const name = aliases[o.name] ?? o.name
        const n = arity[name]
        if (n === undefined) throw new OptionError(`unknown option ${o.text}`)
        if (out.has(name)) throw new OptionError(`${o.text}: only one --${name} is allowed`)
        if (o.values.length !== n) throw new OptionError(`${o.text}: expects ${n} value${n === 1 ? '' : 's'}`)
        out.set(name, o)
      }
      return out
    },
  }
}

/** The single value of an option read through an OptionTable with arity 1. */
export function value(o: OptionArg): string {
  return o.values[0]!
}

/** The option `name` (canonical) from what OptionTable.read returned; OptionError `--name is required` without it. */
export function required(o: ReadonlyMap<string, OptionArg>, name: string): OptionArg {
  const x = o.get(name)
  if (!x) throw new OptionError(`--${name} is required`)
  return x
}

/** Rejects `!` on an option iptables does not let you negate. */
export function noNegation(o: OptionArg): void {
  if (o.negated) throw new OptionError(`${o.text}: cannot be negated`)
}
