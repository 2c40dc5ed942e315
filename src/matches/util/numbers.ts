/** Numbers as iptables writes them in rules: decimal or 0x hex, u32 values with optional `/mask`. */
import {OptionError} from '../types.ts'

/** An unsigned integer `0..max`, decimal or `0x` hex (xtables_strtoui; iptables-save prints no octal). */
export function parseUint(text: string, max: number, what: string): number {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new OptionError(`${what}: not a number: ${JSON.stringify(text)}`)
  const n = Number(text)
  if (n > max) throw new OptionError(`${what}: ${text} is out of range (0-${max})`)
  return n
}

export interface ValueMask {
  readonly value: number
  readonly mask: number
}

/** `value[/mask]`, both u32; the mask defaults to all ones (libxt_mark, libxt_connmark, libxt_conntrack). */
export function parseValueMask(text: string, what: string): ValueMask {
  const slash = text.indexOf('/')
  if (slash < 0) return {value: parseUint(text, 0xffffffff, what), mask: 0xffffffff}
  return {value: parseUint(text.slice(0, slash), 0xffffffff, what), mask: parseUint(text.slice(slash + 1), 0xffffffff, what)}
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`
}

/** `0x4000/0xc000`, or just `0x4000` when the mask is all ones. */
export function valueMaskText(vm: ValueMask): string {
  return vm.mask === 0xffffffff ? hex(vm.value) : `${hex(vm.value)}/${hex(vm.mask)}`
}

/** The explanation of a masked compare: `mark 0x4000 & 0xc000 = 0x4000 equals 0x4000`. */
export function maskedText(label: string, actual: number, vm: ValueMask, fact: boolean): string {
  const masked = vm.mask === 0xffffffff ? '' : ` & ${hex(vm.mask)} = ${hex(actual & vm.mask)}`
  return `${label} ${hex(actual)}${masked} ${fact ? 'equals' : 'does not equal'} ${hex(vm.value)}`
}
