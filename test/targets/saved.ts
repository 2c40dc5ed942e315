/**
 * Test helper: a target exactly as iptables-save printed it in test/fixtures/targets/*.txt (captured from a netns
 * with iptables 1.8.9), parsed by its module with the table/chain/-p of its line.
 */
import {readFileSync} from 'node:fs'
import {tokenize} from '../../src/parse/tokenize.ts'
import type {OptionArg, ParseCtx} from '../../src/matches/types.ts'
import type {TargetKind} from '../../src/targets/types.ts'

const PROTOS: Record<string, number> = {tcp: 6, udp: 17, icmp: 1, sctp: 132}

/** The one fixture line containing `needle`, its options after `-j`, and the parse context of its table. */
export function savedLine(file: 'iptables-save.txt' | 'ip6tables-save.txt', needle: string): {opts: OptionArg[]; pctx: ParseCtx; line: string} {
  const lines = readFileSync(new URL(`../fixtures/targets/${file}`, import.meta.url), 'utf8').split('\n')
  let table = ''
  const hits: {line: string; table: string}[] = []
  for (const l of lines) {
    if (l.startsWith('*')) table = l.slice(1)
    else if (l.includes(needle)) hits.push({line: l, table})
  }
  if (hits.length !== 1) throw new Error(`${hits.length} fixture lines contain ${JSON.stringify(needle)}`)
  const {line} = hits[0]!
  const {words} = tokenize(line)
  const j = words.indexOf('-j')
  const p = words.indexOf('-p')
  const opts: OptionArg[] = []
  for (const w of words.slice(j + 2)) {
    if (w.startsWith('--')) opts.push({name: w.slice(2), values: [], negated: false, text: w})
    else {
      opts.at(-1)!.values.push(w)
      opts.at(-1)!.text += ` ${w}`
    }
  }
  const pctx: ParseCtx = {family: file === 'iptables-save.txt' ? 4 : 6, table: hits[0]!.table, chain: words[1]!}
  if (p >= 0) pctx.proto = PROTOS[words[p + 1]!]
  return {opts, pctx, line}
}

export function savedSpec<S>(kind: TargetKind<S>, file: 'iptables-save.txt' | 'ip6tables-save.txt', needle: string): S {
  const {opts, pctx, line} = savedLine(file, needle)
  if (!line.includes(`-j ${kind.name}`)) throw new Error(`${line} is not a ${kind.name} rule`)
  return kind.parse(opts, pctx)
}

/** An option list from text, for forms iptables-save never prints (hand-written rules). */
export function opts(...words: string[]): OptionArg[] {
  const out: OptionArg[] = []
  for (const w of words) {
    if (w.startsWith('--')) out.push({name: w.slice(2), values: [], negated: false, text: w})
    else {
      out.at(-1)!.values.push(w)
      out.at(-1)!.text += ` ${w}`
    }
  }
  return out
}
