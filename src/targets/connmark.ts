/**
 * `-j CONNMARK`: changes the connection's mark, or copies between it and skb->mark (net/netfilter/xt_connmark.c
 * connmark_tg_shift):
 *   set:     ctmark = (ctmark & ~ctmask) ^ ctmark_value            (then shifted, revision 2)
 *   save:    ctmark = (ctmark & ~ctmask) ^ shift(mark & nfmask)
 *   restore: mark   = (mark & ~nfmask) ^ shift(ctmark & ctmask)
 * Without a conntrack entry (nf_ct_get() NULL: before conntrack, INVALID, or untracked) it does nothing.
 * iptables-save (1.8.9) prints `--set-xmark V/M`, or `--save-mark|--restore-mark --nfmask N --ctmask C` with both
 * masks always written (default 0xffffffff; `--mask X` sets both), plus `--left-shift-mark`/`--right-shift-mark`.
 */
import {OptionError} from '../matches/types.ts'
import type {TargetKind} from './types.ts'
import {markEffect} from './mark-bits.ts'
import {xmarkFromOptions} from './mark.ts'
import {hex, parseUint, readOptions} from './util.ts'

const U32 = 0xffffffff

export type ConnmarkSpec =
  | {mode: 'set'; value: number; mask: number; op: string; shift?: Shift}
  | {mode: 'save' | 'restore'; nfmask: number; ctmask: number; shift?: Shift}

interface Shift {
  dir: 'left' | 'right'
  bits: number
}

const ARITY = {
  'set-xmark': 1, 'set-mark': 1, 'and-mark': 1, 'or-mark': 1, 'xor-mark': 1,
  'save-mark': 0, 'restore-mark': 0, nfmask: 1, ctmask: 1, mask: 1, 'left-shift-mark': 1, 'right-shift-mark': 1,
}

function shifted(n: number, s: Shift | undefined): number {
  if (!s) return n >>> 0
  return s.dir === 'left' ? (n << s.bits) >>> 0 : n >>> s.bits
}

function shiftText(s: Shift | undefined): string {
  return s ? `, shifted ${s.dir} by ${s.bits}` : ''
}

export const connmarkTarget: TargetKind<ConnmarkSpec> = {
  name: 'CONNMARK',
  options: Object.keys(ARITY),
  parse(opts) {
    const o = readOptions('CONNMARK', opts, ARITY)
    let shift: Shift | undefined
    if (o.has('left-shift-mark') && o.has('right-shift-mark')) throw new OptionError('--left-shift-mark and --right-shift-mark cannot be combined')
    for (const dir of ['left', 'right'] as const) {
      const v = o.get(`${dir}-shift-mark`)?.[0]
      if (v !== undefined) {
        const bits = parseUint(v, 31, 'shift')
        if (bits) shift = {dir, bits}
      }
    }
    const x = xmarkFromOptions(o)
    const modes = [x ? 'set' : undefined, o.has('save-mark') ? 'save' : undefined, o.has('restore-mark') ? 'restore' : undefined].filter(Boolean)
    if (modes.length !== 1) throw new OptionError('CONNMARK needs exactly one of --set-xmark/--set-mark/--and-mark/--or-mark/--xor-mark, --save-mark, --restore-mark')
    if (x) {
      if (o.has('nfmask') || o.has('ctmask') || o.has('mask')) throw new OptionError('--nfmask/--ctmask/--mask only go with --save-mark or --restore-mark')
      return shift ? {mode: 'set', ...x, shift} : {mode: 'set', ...x}
    }
    if (o.has('mask') && (o.has('nfmask') || o.has('ctmask'))) throw new OptionError('--mask cannot be combined with --nfmask/--ctmask')
    const both = o.has('mask') ? parseUint(o.get('mask')![0]!, U32, 'mask') : U32
    const nfmask = o.has('nfmask') ? parseUint(o.get('nfmask')![0]!, U32, 'nfmask') : both
    const ctmask = o.has('ctmask') ? parseUint(o.get('ctmask')![0]!, U32, 'ctmask') : both
    const mode = o.has('save-mark') ? 'save' : 'restore'
    return shift ? {mode, nfmask, ctmask, shift} : {mode, nfmask, ctmask}
  },
  apply(spec, ctx) {
    const ct = ctx.pkt.ct
    if (!ct || ct.state === 'UNTRACKED') {
      const why = ct === undefined ? 'conntrack has not run yet for this packet' : ct === null ? 'the packet is INVALID (no conntrack entry)' : 'the packet is untracked'
      return {verdict: 'CONTINUE', effects: [{kind: 'note', text: `CONNMARK does nothing: ${why} (xt_connmark.c: no entry, no mark)`}]}
    }
    const pktMark = ctx.pkt.mark >>> 0
    if (spec.mode === 'set') {
      if (!spec.shift) return {verdict: 'CONTINUE', effects: [markEffect('ctmark', spec.op, ct.mark, spec.value, spec.mask)]}
      // With a shift the result is no longer one xmark step: describe it as setting the whole computed mark.
      const after = shifted(((ct.mark & ~spec.mask) ^ spec.value) >>> 0, spec.shift)
      return {verdict: 'CONTINUE', effects: [markEffect('ctmark', `${spec.op}${shiftText(spec.shift)}`, ct.mark, after, U32)]}
    }
    if (spec.mode === 'save') {
      const bits = shifted(pktMark & spec.nfmask, spec.shift)
      const op = `save-mark --nfmask ${hex(spec.nfmask)} --ctmask ${hex(spec.ctmask)}: copies mark ${hex(pktMark)} & ${hex(spec.nfmask)}${shiftText(spec.shift)} = ${hex(bits)} into ctmark bits ${hex(spec.ctmask)}`
      return {verdict: 'CONTINUE', effects: [markEffect('ctmark', op, ct.mark, bits, spec.ctmask)]}
    }
    const bits = shifted(ct.mark & spec.ctmask, spec.shift)
    const op = `restore-mark --nfmask ${hex(spec.nfmask)} --ctmask ${hex(spec.ctmask)}: copies ctmark ${hex(ct.mark)} & ${hex(spec.ctmask)}${shiftText(spec.shift)} = ${hex(bits)} into mark bits ${hex(spec.nfmask)}`
    return {verdict: 'CONTINUE', effects: [markEffect('nfmark', op, pktMark, bits, spec.nfmask)]}
  },
}
