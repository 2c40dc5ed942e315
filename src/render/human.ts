/**
 * The human view of a trace: hooks and tables in order, each evaluated rule with ✓/✗ per match and the reason of
 * the failing one, effects, NAT, routes and the final disposition. Long runs of rules that did not match are
 * collapsed unless verbose (a 700-rule kube chain stays readable).
 */
import {styleText} from 'node:util'
import type {TraceResult, Outcome} from '../engine/api.ts'
import type {StepEvent} from '../engine/events.ts'
import {expandSkip, hex, matchReason, packetLine, portRanges, type PortRanges} from './describe.ts'

export interface HumanOptions {
  color: boolean
  verbose: boolean
}

type Style = Parameters<typeof styleText>[0]

/** Runs of at least this many non-matching rules are folded into one line. */
const COLLAPSE = 4

export function renderTrace(r: TraceResult, opts: HumanOptions): string {
  const c = (style: Style, s: string) => (opts.color ? styleText(style, s) : s)
  const out: string[] = []
  const flow = r.spec.flow ? ` (${r.spec.flow.kind === 'related' ? 'ICMP error about' : `${r.spec.flow.kind} of`} ${r.spec.flow.of})` : ''
  const forced = r.spec.ct ? ` [--ct ${r.spec.ct}]` : ''
  out.push(c('bold', `packet ${r.spec.id !== undefined ? `${r.spec.id}${flow}: ` : flow ? `${flow.trim()}: ` : ''}${packetLine(r.spec)}${forced}`))
  for (const w of r.warnings) out.push(c('yellow', `warning: ${w}`))
  if (r.outcomes.length > 1) {
    out.push(`${r.outcomes.length} possible paths (random choices the kernel makes):`)
    r.outcomes.forEach((o, i) => out.push(`  ${String(i + 1).padStart(2)}. ${(o.probability * 100).toFixed(1).padStart(5)} % → ${summary(o)}`))
  }
  r.outcomes.forEach((o, i) => {
    out.push('')
    if (r.outcomes.length > 1) out.push(c('bold', `── path ${i + 1} of ${r.outcomes.length} (p = ${o.num}/${o.den} ≈ ${(o.probability * 100).toFixed(3)} %) ──`))
    const start = i === 0 ? 0 : commonPrefix(r.outcomes[0].steps, o.steps)
    if (start > 0) out.push(c('dim', `  … same as path 1 up to here (${start} steps)`))
    out.push(...renderSteps(o.steps.slice(start), opts, c, portRanges(o.steps)))
  })
  return out.join('\n')
}

/** What the path does, in one line: disposition, out interface, NAT, and the chains it went through last. */
export function summary(o: Outcome): string {
  const nat = o.steps.flatMap((s) => (s.type === 'nat' && s.kind !== 'null' ? [`${s.kind.toUpperCase()} ${s.to}${s.chain && s.chain !== s.hook ? ` via ${s.chain}` : ''}`] : []))
  const parts = [o.disposition + (o.oif ? ` out ${o.oif}` : ''), ...nat]
  if (o.final.mark) parts.push(`mark ${hex(o.final.mark)}`)
  return parts.join(', ')
}

function key(e: StepEvent): string {
  if (e.type === 'rule') return `r${e.table}${e.chain}${e.rule.index}${e.matched}`
  if (e.type === 'branch') return `b${e.label}${e.taken}`
  return `${e.type}${'text' in e ? e.text : ''}${'chain' in e ? e.chain : ''}`
}

function commonPrefix(a: StepEvent[], b: StepEvent[]): number {
  let i = 0
  while (i < a.length && i < b.length && key(a[i]) === key(b[i])) i++
  // Restart at the branch point's chain entry so the reader sees where it diverged.
  while (i > 0 && b[i - 1].type !== 'chain' && b[i - 1].type !== 'hook') i--
  return i
}

function renderSteps(steps: StepEvent[], opts: HumanOptions, c: (s: Style, t: string) => string, ranges: PortRanges): string[] {
  const out: string[] = []
  let depth = 1
  const pad = () => '  '.repeat(depth)
  for (let i = 0; i < steps.length; i++) {
    const e = steps[i]
    switch (e.type) {
      case 'hook':
        depth = 1
        out.push(c('cyan', `${e.hook} (IPv${e.family})`))
        break
      case 'chain':
        if (e.via === 'hook') depth = 1
        else depth++
        out.push(`${pad()}${c('bold', `${e.table} ${e.chain}`)}${e.via === 'hook' ? '' : c('dim', ` (${e.via})`)}`)
        break
      case 'skip':
        if (opts.verbose) {
          for (const r of expandSkip(e)) out.push(...renderRule(r, pad(), c))
          break
        }
        out.push(`${pad()}  ${c('dim', `✗ #${e.from + 1}–#${e.to + 1}: ${e.to - e.from + 1} rules for other destinations did not match (-d differs; --verbose lists them)`)}`)
        break
      case 'rule': {
        if (!e.matched && !opts.verbose) {
          let j = i
          while (j < steps.length && steps[j].type === 'rule' && !(steps[j] as typeof e).matched && (steps[j] as typeof e).chain === e.chain) j++
          if (j - i >= COLLAPSE) {
            const last = steps[j - 1] as typeof e
            out.push(`${pad()}  ${c('dim', `✗ #${e.rule.index}–#${last.rule.index}: ${j - i} rules did not match (--verbose lists them)`)}`)
            i = j - 1
            break
          }
        }
        out.push(...renderRule(e, pad(), c))
        break
      }
      case 'return':
        out.push(`${pad()}  ${c('dim', e.implicit ? `↩ end of ${e.chain}: return${e.to ? ` to ${e.to}` : ''}` : `↩ RETURN${e.to ? ` to ${e.to}` : ''}`)}`)
        depth = Math.max(1, depth - 1)
        break
      case 'policy':
        out.push(`${pad()}  ${verdictColor(e.verdict, c)(`policy ${e.verdict}`)} (end of built-in chain ${e.chain})`)
        break
      case 'table-verdict':
        break
      case 'conntrack':
        out.push(`  ${c('magenta', `conntrack ${e.action}: ${e.state}`)} — ${e.text}`)
        break
      case 'nat':
        out.push(`${pad()}  ${c('magenta', `NAT ${e.kind}`)}: ${e.text}`)
        break
      case 'route':
        depth = 1
        out.push(c('cyan', `route (${e.phase})`) + `: ${e.text}`)
        if (opts.verbose) for (const r of e.result.rules) out.push(`    ${r.matched ? '✓' : '✗'} ${r.text}${r.note ? ` — ${r.note}` : ''}`)
        break
      case 'branch':
        out.push(`${pad()}  ${c('yellow', `⑂ ${e.text}`)}`)
        break
      case 'note':
        out.push(`${pad()}  ${e.level === 'warning' ? c('yellow', `! ${e.text}`) : c('dim', `· ${e.text}`)}`)
        break
      case 'disposition':
        out.push('')
        out.push(c('bold', `⇒ ${e.disposition.toUpperCase()}${e.oif ? ` (out ${e.oif})` : ''}: ${e.text}`) + `; final ${packetLine(e.final, ranges)}`)
        break
    }
  }
  return out
}

function verdictColor(v: string, c: (s: Style, t: string) => string): (t: string) => string {
  if (v === 'DROP' || v === 'REJECT') return (t) => c('red', t)
  if (v === 'ACCEPT') return (t) => c('green', t)
  return (t) => t
}

function renderRule(e: Extract<StepEvent, {type: 'rule'}>, pad: string, c: (s: Style, t: string) => string): string[] {
  const out: string[] = []
  const mark = e.matched ? c('green', '✓') : c('red', '✗')
  const verdict = e.matched && e.verdict !== 'CONTINUE'
    ? ` → ${verdictColor(e.verdict, c)(e.target ? `${e.verdict} ${e.target}` : e.verdict)}`
    : e.matched && !e.rule.target ? c('dim', ' (no target: counted, then the next rule)') : ''
  out.push(`${pad}  ${mark} #${e.rule.index} ${e.rule.text}${verdict}`)
  for (const m of e.matches) {
    if (m.match.kind.name === 'comment') continue
    out.push(`${pad}      ${m.ok ? '✓' : '✗'} ${m.match.text}: ${matchReason(m, e.ctx)}`)
  }
  for (const f of e.effects) out.push(`${pad}      ${c(f.kind === 'note' && f.unmodelled ? 'yellow' : 'blue', `↳ ${f.text}`)}`)
  return out
}
