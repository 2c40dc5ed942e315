/**
 * The engine's entry points, as the commands, the kernel-differential tests and the bench call them.
 * Implementation: engine/trace.ts (chain walker: engine/walk.ts, hook pipeline: engine/pipeline.ts).
 */
import type {PacketSpec} from '../model/packet.ts'
import type {Disposition, StepEvent} from './events.ts'
import type {PacketState} from './state.ts'

export interface Outcome {
  /** Exact probability of this path: num/den (den a power of two for statistic random). */
  num: bigint
  den: bigint
  probability: number
  disposition: Disposition
  oif: string | null
  /** The packet as it leaves / is delivered / was dropped. */
  final: PacketState
  steps: StepEvent[]
  /** The random decisions that lead here, in order (true = the statistic rule matched). */
  choices: boolean[]
}

export interface TraceResult {
  spec: PacketSpec
  warnings: string[]
  outcomes: Outcome[]
}
