/**
 * `-m u32 [!] --u32 TESTS` (net/netfilter/xt_u32.c, iptables extensions/libxt_u32.c): tests joined by `&&`, each
 * `location=ranges`. A location reads 4 bytes big-endian at a start offset (from the network header), then applies
 * `&N`, `<<N`, `>>N`, or `@N` (move the base forward by the current value and read 4 bytes at base+N). A read past the
 * packet fails the whole match. The value must be in one of the `a[:b]` ranges joined by `,`.
 * Bytes: headers rebuilt from the packet fields, plus assume.payloadHex; a read into an unknown payload is assumed
 * to fail.
 */
import {OptionError, type MatchKind} from './types.ts'
import {optionTable, required, value} from './util/options.ts'
import {withNegation} from './util/negate.ts'
import {packetBytes, SYNTHETIC_HEADERS} from './util/packet-bytes.ts'

type Op = '&' | '<<' | '>>' | '@'

interface U32Test {
  start: number
  ops: {op: Op; n: number}[]
  ranges: [number, number][]
  text: string
}

export interface U32Spec {
  tests: U32Test[]
  invert: boolean
  text: string
}

const table = optionTable({u32: 1})

/** strtoul(…, 0): decimal, 0x hex, leading-0 octal. */
function num(t: string, all: string): number {
  const s = t.trim()
  const n = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^0[0-7]+$/.test(s) ? parseInt(s, 8) : /^\d+$/.test(s) ? Number(s) : NaN
  if (!Number.isFinite(n) || n > 0xffffffff) throw new OptionError(`u32: bad number ${JSON.stringify(t)} in ${JSON.stringify(all)}`)
  return n
}

export function parseU32(expr: string): U32Test[] {
  return expr.split('&&').map((text) => {
    const eq = text.indexOf('=')
    if (eq < 0) throw new OptionError(`u32: no = in ${JSON.stringify(text)}`)
    const loc = text.slice(0, eq).replace(/\s/g, '')
    const parts = loc.split(/(&|<<|>>|@)/)
    const start = num(parts[0]!, text)
    const ops: U32Test['ops'] = []
    for (let i = 1; i < parts.length; i += 2) ops.push({op: parts[i] as Op, n: num(parts[i + 1] ?? '', text)})
    const ranges = text.slice(eq + 1).split(',').map((r): [number, number] => {
      const [a, b] = r.split(':')
      return [num(a!, text), b === undefined ? num(a!, text) : num(b, text)]
    })
    return {start, ops, ranges, text: text.trim()}
  })
}

type ReadResult = {v: number} | {fail: 'short' | 'unknown'; at: number}

function runTest(t: U32Test, bytes: Uint8Array, len: number): {value?: number; fail?: 'short' | 'unknown'; at?: number} {
  const read = (pos: number): ReadResult => {
    if (len < 4 || pos > len - 4) return {fail: 'short', at: pos}
    if (pos + 4 > bytes.length) return {fail: 'unknown', at: pos}
    return {v: ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) >>> 0}
  }
  let r = read(t.start)
  if (!('v' in r)) return r
  let val = r.v
  let at = 0
  for (const {op, n} of t.ops) {
    if (op === '&') val = (val & n) >>> 0
    else if (op === '<<') val = (val << n) >>> 0
    else if (op === '>>') val = val >>> n
    else {
      at += val
      r = read(at + n)
      if (!('v' in r)) return r
      val = r.v
    }
  }
  return {value: val}
}

export const u32: MatchKind<U32Spec> = {
  name: 'u32',
  options: table.names,
  parse(opts) {
    const o = required(table.read(opts), 'u32')
    return {tests: parseU32(value(o)), invert: o.negated, text: o.text}
  },
  eval(spec, ctx) {
    const pb = packetBytes(ctx.pkt)
    // skb->len: the real length; with a payload given, the bytes we have.
    const len = pb.payloadKnown ? pb.bytes.length : ctx.pkt.length
    const said: string[] = []
    let fact = true
    let assumed = `${SYNTHETIC_HEADERS}${pb.payloadKnown ? '; payload from assume.payloadHex' : ''}`
    for (const t of spec.tests) {
      const r = runTest(t, pb.bytes, len)
      if (r.fail === 'short') {
        said.push(`${t.text}: reads past the packet end at offset ${r.at}, so the match fails`)
        fact = false
        break
      }
      if (r.fail === 'unknown') {
        assumed += `; offset ${r.at} is in the payload, which is unknown (set assume.payloadHex): assumed not to match`
        said.push(`${t.text}: reads unknown payload at offset ${r.at}`)
        fact = false
        break
      }
      const inRange = t.ranges.some(([a, b]) => r.value! >= a && r.value! <= b)
      said.push(`${t.text}: value 0x${r.value!.toString(16)} ${inRange ? 'is' : 'is not'} in range`)
      if (!inRange) {
        fact = false
        break
      }
    }
    return {ok: fact !== spec.invert, assumed, detail: said.join('; ')}
  },
  explain(spec, _ctx, ok, detail) {
    return withNegation(detail ?? spec.text, spec.invert, ok, spec.text)
  },
}
