/**
 * The common shape both sides of the differential test are reduced to, the engine-side reduction, and the diff.
 *
 * Only what the kernel can show is compared: matched rules (with their 1-based position and verdict) and built-in
 * chain policies, in order; where the packet ended; its output device; its final mark. The kernel prints nothing for
 * rules that did not match nor for the implicit return at a user chain's end, so those engine events are left out.
 */
import type {Outcome, TraceResult} from '../../src/engine/api.ts'

export interface VerdictEvent {
  table: string
  chain: string
  /** 1-based rule position (rules only). */
  index?: number
  kind: 'rule' | 'policy' | 'return'
  /** ACCEPT, DROP, REJECT, CONTINUE, RETURN, `JUMP X`, `GOTO X`. */
  verdict: string
}

export type KernelDisposition = 'local' | 'forward' | 'output' | 'drop' | 'reject'

export interface KernelVerdictTrace {
  packetId: string
  events: VerdictEvent[]
  disposition: KernelDisposition
  oif: string | null
  finalMark: number
}

/** The engine's outcome reduced to the kernel's view. */
export function fromEngine(packetId: string, o: Outcome): KernelVerdictTrace {
  const events: VerdictEvent[] = []
  for (const s of o.steps) {
    if (s.type === 'rule' && s.matched) {
      const verdict = (s.verdict === 'JUMP' || s.verdict === 'GOTO') && s.target ? `${s.verdict} ${s.target}` : s.verdict
      events.push({table: s.table, chain: s.chain, index: s.rule.index, kind: 'rule', verdict})
    } else if (s.type === 'policy') {
      events.push({table: s.table, chain: s.chain, kind: 'policy', verdict: s.verdict})
    }
  }
  // stolen/queue never come out of the generated rulesets; they would show as a mismatch with `drop`.
  const disposition = o.disposition as KernelDisposition
  return {packetId, events, disposition, oif: o.oif, finalMark: o.final.mark >>> 0}
}

/** The single outcome of a deterministic packet (the generator uses no random matches). */
export function engineOutcome(r: TraceResult): Outcome {
  if (r.outcomes.length !== 1) throw new Error(`engine gave ${r.outcomes.length} outcomes for a deterministic packet`)
  return r.outcomes[0]
}

export function formatEvent(e: VerdictEvent): string {
  return `${e.table}:${e.chain}${e.index !== undefined ? `#${e.index}` : ''} ${e.kind} ${e.verdict}`
}

export function formatTrace(t: KernelVerdictTrace): string {
  const mark = `0x${t.finalMark.toString(16)}`
  return [...t.events.map((e) => `  ${formatEvent(e)}`), `  => ${t.disposition}${t.oif ? ` via ${t.oif}` : ''} mark ${mark}`].join('\n')
}

/**
 * Differences, empty when they agree. The output device is compared only when the packet left the node, and the mark
 * only when it was not dropped: the kernel shows the mark on policy lines of the end probes, which a dropped packet
 * never reaches.
 */
export function diffTraces(kernel: KernelVerdictTrace, engine: KernelVerdictTrace): string[] {
  const out: string[] = []
  const n = Math.max(kernel.events.length, engine.events.length)
  for (let i = 0; i < n; i++) {
    const k = kernel.events[i]
    const e = engine.events[i]
    const ks = k ? formatEvent(k) : '(none)'
    const es = e ? formatEvent(e) : '(none)'
    if (ks !== es) {
      out.push(`event ${i + 1}: kernel ${ks} / engine ${es}`)
      break
    }
  }
  if (kernel.disposition !== engine.disposition) out.push(`disposition: kernel ${kernel.disposition} / engine ${engine.disposition}`)
  const left = kernel.disposition === 'forward' || kernel.disposition === 'output'
  if (left && kernel.oif !== engine.oif) out.push(`oif: kernel ${kernel.oif} / engine ${engine.oif}`)
  const dropped = kernel.disposition === 'drop' || kernel.disposition === 'reject'
  if (!dropped && kernel.finalMark !== engine.finalMark) out.push(`final mark: kernel 0x${kernel.finalMark.toString(16)} / engine 0x${engine.finalMark.toString(16)}`)
  return out
}
