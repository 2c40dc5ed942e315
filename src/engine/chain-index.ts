/**
 * A load-time index for long chains (kube-proxy's KUBE-SERVICES holds one rule per service port): rules whose
 * header says `-d HOST` can only match packets to that host, so a packet visits only the rules for its destination
 * plus the rules without such a test. The rules passed over are still reported (as a `skip` step), because the
 * kernel evaluates them; their -d test is what fails.
 */
import {parseCidr, type IpAddr} from '../net/addr.ts'
import type {Chain} from '../model/ruleset.ts'
import {tokenize} from '../parse/tokenize.ts'

/** Below this many rules a plain scan is as fast as the index. */
const MIN_RULES = 64

interface ChainIndex {
  /** Host destination (canonical text) → ascending rule positions (0-based) whose header is `-d host`. */
  byDst: Map<string, number[]>
  /** Ascending positions of rules that may match any destination. */
  other: number[]
}

const indexes = new WeakMap<Chain, ChainIndex | null>()

/** The `-d` of a rule's header, read from its text (no need to parse the rule's modules). */
function headerHost(text: string): string | undefined {
  let words: string[]
  let quoted: readonly (boolean | undefined)[]
  try {
    ;({words, quoted} = tokenize(text))
  } catch {
    return undefined
  }
  for (let i = 2; i < words.length; i++) {
    const w = words[i]
    if (quoted[i] || (w !== '-d' && w !== '--destination')) continue
    // `! -d X` (new style) or `-d ! X` (old style) can match other hosts.
    if (words[i - 1] === '!' && !quoted[i - 1]) return undefined
    const v = words[i + 1]
    if (v === undefined || v === '!' || quoted[i + 1]) return undefined
    try {
      const c = parseCidr(v)
      return c.prefix === (c.family === 4 ? 32 : 128) ? c.addr.text : undefined
    } catch {
      return undefined
    }
  }
  return undefined
}

function build(chain: Chain): ChainIndex | null {
  if (chain.rules.length < MIN_RULES) return null
  const byDst = new Map<string, number[]>()
  const other: number[] = []
  chain.rules.forEach((rule, i) => {
    const host = headerHost(rule.text)
    if (host === undefined) other.push(i)
    else {
      const list = byDst.get(host)
      if (list) list.push(i)
      else byDst.set(host, [i])
    }
  })
  // An index that skips little is not worth the bookkeeping.
  return other.length * 2 > chain.rules.length ? null : {byDst, other}
}

/**
 * Rule positions (0-based, ascending) a packet to `dst` must be checked against, or undefined when the chain is
 * not indexed (check every rule).
 */
export function candidateRules(chain: Chain, dst: IpAddr): number[] | undefined {
  let idx = indexes.get(chain)
  if (idx === undefined) {
    idx = build(chain)
    indexes.set(chain, idx)
  }
  if (!idx) return undefined
  const mine = idx.byDst.get(dst.text)
  if (!mine) return idx.other
  const out: number[] = []
  let a = 0
  let b = 0
  while (a < mine.length || b < idx.other.length) {
    if (b >= idx.other.length || (a < mine.length && mine[a] < idx.other[b])) out.push(mine[a++])
    else out.push(idx.other[b++])
  }
  return out
}

/** Builds the indexes of every long chain now (at load time) rather than on the first packet. */
export function indexChains(chains: Iterable<Chain>): void {
  for (const c of chains) if (!indexes.has(c)) indexes.set(c, build(c))
}
