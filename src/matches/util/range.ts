/** Inclusive number ranges as xtables writes them: `a`, `a:b`, `:b` (from 0), `a:` (up to the maximum). */
import {OptionError} from '../types.ts'
import {parseUint} from './numbers.ts'

export interface Range {
  readonly lo: number
  readonly hi: number
}

/**
 * `reversed`: whether `b < a` is accepted (it then never matches). libxt_tcp refuses it ("invalid portrange
 * (min > max)"); libxt_length and libxt_conntrack keep it as written (checked with iptables 1.8.9).
 */
export function parseRange(text: string, max: number, what: string, opts: {reversed: boolean; one?: (t: string) => number}): Range {
  const one = opts.one ?? ((t: string) => parseUint(t, max, what))
  const colon = text.indexOf(':')
  const r = colon < 0
    ? {lo: one(text), hi: one(text)}
    : {lo: colon === 0 ? 0 : one(text.slice(0, colon)), hi: colon === text.length - 1 ? max : one(text.slice(colon + 1))}
  if (!opts.reversed && r.lo > r.hi) throw new OptionError(`${what}: invalid range ${text} (min > max)`)
  return r
}

export function inRange(r: Range, v: number): boolean {
  return v >= r.lo && v <= r.hi
}

/** As iptables-save prints it: `80` or `80:90`. */
export function rangeText(r: Range): string {
  return r.lo === r.hi ? String(r.lo) : `${r.lo}:${r.hi}`
}

/** `dport 443 is not in 80:90`, `length 60 is 60`. */
export function rangeSentence(label: string, v: number, r: Range, fact: boolean): string {
  return `${label} ${v} ${fact ? 'is' : 'is not'}${r.lo === r.hi ? '' : ' in'} ${rangeText(r)}`
}
