/**
 * `-j CHAIN` / `-g CHAIN` to a chain of the same table (the kernel's standard target with a positive verdict:
 * net/ipv4/netfilter/ip_tables.c ipt_do_table()). The walker enters the chain; for a jump it pushes a return
 * point, for a goto it does not, so a RETURN (or the end) of the goto'd chain returns to the caller's caller.
 */
import {OptionError} from '../matches/types.ts'
import type {TargetKind} from './types.ts'

export interface JumpSpec {
  chain: string
  goto: boolean
}

export const jumpTarget: TargetKind<JumpSpec> = {
  name: 'jump',
  /** The parser hands the chain over as option `j` or `g`; a chain target takes no other option. */
  options: ['j', 'g'],
  parse(opts) {
    const [first, ...rest] = opts
    if (!first || (first.name !== 'j' && first.name !== 'g') || first.values.length !== 1) {
      throw new OptionError('a chain target needs exactly one chain name')
    }
    if (rest.length) throw new OptionError(`a jump to chain ${first.values[0]} takes no options (got ${rest[0]!.text})`)
    return {chain: first.values[0]!, goto: first.name === 'g'}
  },
  apply: (spec) => ({verdict: spec.goto ? 'GOTO' : 'JUMP', effects: []}),
}
