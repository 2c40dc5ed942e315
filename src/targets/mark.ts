/**
 * `-j MARK`: changes skb->mark as `mark = (mark & ~mask) ^ value` (net/netfilter/xt_mark.c mark_tg).
 * Option → (value, mask) as in iptables extensions/libxt_MARK.c (revision 2); iptables-save prints every form back
 * as `--set-xmark 0xV/0xM` (checked with iptables 1.8.9: `--or-mark 0x4000` → `--set-xmark 0x4000/0x4000`).
 */
import {OptionError, type OptionArg} from '../matches/types.ts'
import type {TargetKind} from './types.ts'
import {describeXmark, markEffect} from './mark-bits.ts'
import {hex, parseUint, parseValueMask, readOptions} from './util.ts'

const U32 = 0xffffffff

export interface MarkSpec {
  value: number
  mask: number
  /** `set-xmark 0x4000/0x4000 = or 0x4000`. */
  op: string
}

/**
 * The xmark (value, mask) of a mark-changing option shared by MARK and CONNMARK (libxt_MARK.c / libxt_CONNMARK.c
 * agree): set-xmark v[/m]; set-mark v[/m] → mask m|v; and-mark b → 0/~b; or-mark b → b/b; xor-mark b → b/0.
 * Returns undefined when none of them is among the options.
 */
export function xmarkFromOptions(o: Map<string, string[]>): {value: number; mask: number; op: string} | undefined {
  const given = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'].filter((n) => o.has(n))
  if (given.length > 1) throw new OptionError(`--${given[0]} and --${given[1]} cannot be combined`)
  const name = given[0]
  if (!name) return undefined
  const arg = o.get(name)![0]!
  let value: number
  let mask: number
  if (name === 'set-xmark' || name === 'set-mark') {
    const vm = parseValueMask(arg, U32, 'mark')
    value = vm.value
    mask = name === 'set-mark' ? ((vm.mask ?? U32) | value) >>> 0 : (vm.mask ?? U32)
  } else {
    const b = parseUint(arg, U32, 'mark')
    if (name === 'and-mark') [value, mask] = [0, ~b >>> 0]
    else if (name === 'or-mark') [value, mask] = [b, b]
    else [value, mask] = [b, 0]
  }
  const saved = `set-xmark ${hex(value)}/${hex(mask)}`
  const op = name === 'set-xmark' ? `${saved} = ${describeXmark(value, mask)}` : `${name} ${arg} (${saved}) = ${describeXmark(value, mask)}`
  return {value, mask, op}
}

const ARITY = {'set-xmark': 1, 'set-mark': 1, 'and-mark': 1, 'or-mark': 1, 'xor-mark': 1}

export const markTarget: TargetKind<MarkSpec> = {
  name: 'MARK',
  options: Object.keys(ARITY),
  parse(opts: OptionArg[]) {
    const x = xmarkFromOptions(readOptions('MARK', opts, ARITY))
    if (!x) throw new OptionError('MARK needs one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark')
    return x
  },
  apply: (spec, ctx) => ({verdict: 'CONTINUE', effects: [markEffect('nfmark', spec.op, ctx.pkt.mark, spec.value, spec.mask)]}),
}
