/**
 * Explains a mark change bit by bit. Every mark operation of netfilter is `after = (before & ~mask) ^ value`
 * (net/netfilter/xt_mark.c mark_tg, xt_connmark.c, xt_TPROXY.c, nft_meta.c through a bitwise expression), so
 * MARK, CONNMARK, TPROXY and nft `meta mark set` all describe their change with this one helper.
 */
import type {Effect} from './types.ts'

export type MarkEffect = Extract<Effect, {kind: 'mark'}>

/** `0x00004000`: fixed width, so before and after line up in a trace. */
export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`
}

/** Bit numbers (0 = least significant) set in `n`, ascending. */
export function bitList(n: number): number[] {
  const out: number[] = []
  for (let b = 0; b < 32; b++) if ((n >>> b) & 1) out.push(b)
  return out
}

/** `bits set: 14; bits cleared: 0,1`, or `unchanged`: which bits went 0→1 and 1→0. */
export function bitChangeText(before: number, after: number): string {
  const set = bitList(~before & after)
  const cleared = bitList(before & ~after)
  const parts: string[] = []
  if (set.length) parts.push(`${set.length === 1 ? 'bit' : 'bits'} set: ${set.join(',')}`)
  if (cleared.length) parts.push(`${cleared.length === 1 ? 'bit' : 'bits'} cleared: ${cleared.join(',')}`)
  return parts.length ? parts.join('; ') : 'unchanged'
}

/** The kernel's mark operation on u32s. */
export function applyMark(before: number, value: number, mask: number): number {
  return ((before & ~mask) ^ value) >>> 0
}

/**
 * What a (value, mask) pair does in words: `or 0x4000`, `set to 0x1`, `clear 0xff00`, `xor 0x10`,
 * `set bits 0xc000 to 0x4000`. iptables-save prints every MARK as `--set-xmark V/M`, so this restores the intent.
 */
export function describeXmark(value: number, mask: number): string {
  const v = value >>> 0
  const m = mask >>> 0
  const h = (n: number) => `0x${n.toString(16)}`
  if (m === 0xffffffff) return `set to ${h(v)}`
  if (m === 0) return v === 0 ? 'no change' : `xor ${h(v)}`
  if (v === 0) return `clear ${h(m)}`
  if (v === m) return `or ${h(v)}`
  if (((v & ~m) >>> 0) === 0) return `set bits ${h(m)} to ${h(v)}`
  return `clear ${h(m)}, then xor ${h(v)}`
}

/**
 * The effect of `field = (before & ~mask) ^ value`; `op` says what the rule asked for (`set-xmark 0x4000/0x4000`).
 * Text: `mark 0x00000000 → 0x00004000: set-xmark 0x4000/0x4000 = or 0x4000 (bit set: 14)`.
 */
export function markEffect(field: 'nfmark' | 'ctmark', op: string, before: number, value: number, mask: number): MarkEffect {
  const b = before >>> 0
  const v = value >>> 0
  const m = mask >>> 0
  const after = applyMark(b, v, m)
  const name = field === 'nfmark' ? 'mark' : 'ctmark'
  return {kind: 'mark', field, op, value: v, mask: m, before: b, after, text: `${name} ${hex32(b)} → ${hex32(after)}: ${op} (${bitChangeText(b, after)})`}
}
