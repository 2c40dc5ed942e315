/**
 * `-m string --algo bm|kmp [!] --string S | [!] --hex-string H [--from O] [--to O] [--icase]`
 * (net/netfilter/xt_string.c, lib/textsearch.c skb_find_text): the pattern must lie wholly inside bytes [from, to)
 * of the packet counted from the network header (to defaults to 65535). Searches one packet, no reassembly.
 * Payload bytes come from assume.payloadHex; without them the pattern is assumed absent (so `!` matches).
 */
import {OptionError, type MatchKind} from './types.ts'
import {noNegation, optionTable, value} from './util/options.ts'
import {parseUint} from './util/numbers.ts'
import {withNegation} from './util/negate.ts'
import {packetBytes, SYNTHETIC_HEADERS} from './util/packet-bytes.ts'

export interface StringSpec {
  pattern: Uint8Array
  /** As written (for explanations). */
  shown: string
  from: number
  to: number
  icase: boolean
  invert: boolean
  text: string
}

const table = optionTable({algo: 1, from: 1, to: 1, string: 1, 'hex-string': 1, icase: 0})

/** `abc|0d 0a|def`: text outside bars, hex bytes inside (libxt_string.c parse_hex_string). */
function parseHexString(s: string): Uint8Array {
  const out: number[] = []
  const parts = s.split('|')
  if (parts.length % 2 === 0) throw new OptionError(`unbalanced | in hex string ${JSON.stringify(s)}`)
  parts.forEach((p, i) => {
    if (i % 2 === 0) for (const b of Buffer.from(p, 'latin1')) out.push(b)
    else {
      const h = p.replace(/\s/g, '')
      if (!/^([0-9a-f]{2})*$/i.test(h)) throw new OptionError(`bad hex bytes |${p}|`)
      for (let k = 0; k < h.length; k += 2) out.push(parseInt(h.slice(k, k + 2), 16))
    }
  })
  return Uint8Array.from(out)
}

const lower = (b: number) => (b >= 0x41 && b <= 0x5a ? b + 32 : b)

/** First offset in [from, to - len] where the pattern occurs, or -1. */
export function findPattern(hay: Uint8Array, pat: Uint8Array, from: number, to: number, icase: boolean): number {
  const end = Math.min(to, hay.length) - pat.length
  outer: for (let o = from; o <= end; o++) {
    for (let k = 0; k < pat.length; k++) {
      const a = hay[o + k]!
      const b = pat[k]!
      if (a !== b && !(icase && lower(a) === lower(b))) continue outer
    }
    return o
  }
  return -1
}

export const string: MatchKind<StringSpec> = {
  name: 'string',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    const algo = o.get('algo')
    if (!algo || !['bm', 'kmp'].includes(value(algo))) throw new OptionError('--algo bm|kmp is required')
    for (const n of ['algo', 'from', 'to', 'icase']) if (o.has(n)) noNegation(o.get(n)!)
    const s = o.get('string')
    const h = o.get('hex-string')
    if (!!s === !!h) throw new OptionError('give one of --string or --hex-string')
    const pat = s ? Uint8Array.from(Buffer.from(value(s), 'latin1')) : parseHexString(value(h!))
    if (pat.length === 0) throw new OptionError('empty pattern')
    const opt = (s ?? h)!
    return {
      pattern: pat, shown: value(opt), icase: o.has('icase'), invert: opt.negated, text: opt.text,
      from: o.has('from') ? parseUint(value(o.get('from')!), 65535, '--from') : 0,
      to: o.has('to') ? parseUint(value(o.get('to')!), 65535, '--to') : 65535,
    }
  },
  eval(spec, ctx) {
    const range = `bytes ${spec.from}-${spec.to}`
    const pb = packetBytes(ctx.pkt)
    if (!pb.payloadKnown) {
      return {ok: spec.invert, assumed: 'no payload known (set assume.payloadHex): the pattern is assumed absent', detail: `"${spec.shown}" assumed absent (no payload known)`}
    }
    const at = findPattern(pb.bytes, spec.pattern, spec.from, spec.to, spec.icase)
    const where = at < 0 ? `not found in ${range}` : `found at offset ${at} (${at >= pb.payloadAt ? `payload byte ${at - pb.payloadAt}` : 'inside the rebuilt headers'})`
    return {ok: (at >= 0) !== spec.invert, assumed: `payload from assume.payloadHex; ${SYNTHETIC_HEADERS}`, detail: `"${spec.shown}"${spec.icase ? ' (ignoring case)' : ''} ${where}`}
  },
  explain(spec, _ctx, ok, detail) {
    return withNegation(detail ?? `string "${spec.shown}"`, spec.invert, ok, spec.text)
  },
}
