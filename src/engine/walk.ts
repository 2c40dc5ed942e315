/**
 * One iptables table at one hook: the built-in chain's rules top to bottom, with the kernel's jump stack
 * (net/ipv4/netfilter/ip_tables.c ipt_do_table): -j pushes a return point, -g does not, RETURN or the end of a
 * user chain pops one, and with nothing to pop the built-in chain's policy applies.
 */
import type {Chain, HookName, Rule, Table} from '../model/ruleset.ts'
import type {EvalContext} from './state.ts'
import type {MatchStep} from './events.ts'
import type {Run} from './run.ts'
import type {Verdict} from '../targets/types.ts'
import {candidateRules} from './chain-index.ts'

/** The kernel refuses rulesets nested deeper than this (XT_MAX chain depth is far lower; loops are refused). */
const MAX_DEPTH = 1024

/** Evaluates a rule's matches in order, stopping at the first that fails, as the kernel does. */
export function evalMatches(rule: Rule, ctx: EvalContext): {ok: boolean; steps: MatchStep[]} {
  const steps: MatchStep[] = []
  for (const match of rule.matches) {
    const r = match.kind.eval(match.spec, ctx)
    const step: MatchStep = typeof r === 'boolean' ? {match, ok: r} : {match, ok: r.ok, assumed: r.assumed, detail: r.detail}
    if (match.unmodelled && step.assumed === undefined) step.assumed = `${match.text}: not modelled`
    steps.push(step)
    if (!step.ok) return {ok: false, steps}
  }
  return {ok: true, steps}
}

function lowerBound(a: number[], v: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (a[mid] < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

export type TableVerdict = Exclude<Verdict, 'CONTINUE' | 'RETURN' | 'JUMP' | 'GOTO'>

export function walkTable(run: Run, table: Table, hook: HookName): TableVerdict {
  const base = table.chains.get(hook)
  const family = run.family
  if (!base) return 'ACCEPT'
  const where = (chain: Chain) => ({family, hook, table: table.name, chain: chain.name})
  run.emit({type: 'chain', via: 'hook', ...where(base)})
  const stack: {chain: Chain; next: number}[] = []
  let cur = base
  let i = 0
  // Rules this packet's destination can match in the current chain (undefined: all); see chain-index.ts.
  let cand = candidateRules(cur, run.pkt.dst)
  let ci = 0
  const enter = (chain: Chain, at: number) => {
    cur = chain
    i = at
    cand = candidateRules(cur, run.pkt.dst)
    ci = cand ? lowerBound(cand, at) : 0
  }
  const policy = (): TableVerdict => {
    const verdict = base.policy ?? 'ACCEPT'
    run.emit({type: 'policy', verdict, ...where(base)})
    return verdict
  }
  const leave = (implicit: boolean): boolean => {
    // Returns false when there is nowhere to return to (the caller then applies the policy).
    const frame = stack.pop()
    run.emit({type: 'return', implicit, to: frame?.chain.name, ...where(cur)})
    if (!frame) return false
    enter(frame.chain, frame.next)
    return true
  }
  for (;;) {
    if (cand) {
      while (ci < cand.length && cand[ci] < i) ci++
      const next = ci < cand.length ? cand[ci] : cur.rules.length
      if (next > i) {
        run.emit({type: 'skip', rules: cur.rules, from: i, to: next - 1, ctx: run.context(hook, table.name, cur.name), ...where(cur)})
        i = next
      }
    }
    if (i >= cur.rules.length) {
      if (cur === base) return policy()
      if (!leave(true)) return policy()
      continue
    }
    const rule = cur.rules[i]
    const ctx = run.context(hook, table.name, cur.name)
    const {ok, steps} = evalMatches(rule, ctx)
    if (!ok) {
      run.emit({type: 'rule', rule, matched: false, matches: steps, verdict: 'CONTINUE', effects: [], ctx, ...where(cur)})
      i++
      continue
    }
    const target = rule.target
    const result = target ? target.kind.apply(target.spec, ctx) : {verdict: 'CONTINUE' as const, effects: []}
    const targetChain = result.verdict === 'JUMP' || result.verdict === 'GOTO' ? (target!.spec as {chain: string}).chain : undefined
    run.emit({type: 'rule', rule, matched: true, matches: steps, verdict: result.verdict, target: targetChain, effects: result.effects, ctx, ...where(cur)})
    run.applyEffects(result.effects, hook, {table: table.name, chain: cur.name, index: rule.index})
    switch (result.verdict) {
      case 'CONTINUE':
        i++
        break
      case 'RETURN':
        if (cur === base) return policy()
        if (!leave(false)) return policy()
        break
      case 'JUMP':
      case 'GOTO': {
        const next = table.chains.get(targetChain!)
        if (!next) {
          run.note(`chain ${targetChain} is not in table ${table.name}; the kernel would have refused this ruleset — continuing`, 'warning')
          i++
          break
        }
        if (result.verdict === 'JUMP') stack.push({chain: cur, next: i + 1})
        if (stack.length > MAX_DEPTH) {
          run.note(`jump depth above ${MAX_DEPTH}: a loop the kernel would have refused; packet dropped here`, 'warning')
          return 'DROP'
        }
        enter(next, 0)
        run.emit({type: 'chain', via: result.verdict === 'JUMP' ? 'jump' : 'goto', ...where(cur)})
        break
      }
      default:
        run.emit({type: 'table-verdict', verdict: result.verdict, ...where(base)})
        return result.verdict
    }
  }
}
