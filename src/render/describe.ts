/** Short texts shared by the human and JSON views. */
import {protoName, tcpFlagsText, PROTO} from '../model/packet.ts'
import type {PacketSpec} from '../model/packet.ts'
import type {PacketState} from '../engine/state.ts'
import type {MatchStep} from '../engine/events.ts'
import type {EvalContext} from '../engine/state.ts'
import {hostPort} from '../engine/nat.ts'

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`
}

export function packetLine(p: PacketSpec | PacketState): string {
  const where = p.local ? 'local' : `in ${p.iif}`
  const extra: string[] = []
  if (p.proto === PROTO.tcp && p.tcpFlags !== undefined) extra.push(`flags ${tcpFlagsText(p.tcpFlags)}`)
  if (p.icmpType !== undefined) extra.push(`icmp-type ${p.icmpType}/${p.icmpCode ?? 0}`)
  if (p.mark) extra.push(`mark ${hex(p.mark)}`)
  return `${protoName(p.proto)} ${hostPort(p.src, p.sport)} > ${hostPort(p.dst, p.dport)} ${where}${extra.length ? ` (${extra.join(', ')})` : ''}`
}

/** The reason of a match as its module words it, plus any assumption. */
export function matchReason(step: MatchStep, ctx: EvalContext): string {
  const m = step.match
  let text: string
  try {
    text = m.kind.explain(m.spec, ctx, step.ok, step.detail)
  } catch (e) {
    text = `(no explanation: ${(e as Error).message})`
  }
  return step.assumed && !text.includes(step.assumed) ? `${text} [assumed: ${step.assumed}]` : text
}
