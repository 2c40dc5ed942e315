/**
 * What every kernel-differential suite does around its cases: skip loudly where the kernel cannot be asked, build the
 * topology and the oracle and always tear them down; and the engine side, a session on a snapshot collected live from
 * the node namespace. The engine is imported on first use, so a skipped suite never loads it.
 */
import type {TestContext} from 'node:test'
import {createTopology, kernelSkipReason, type Topology} from './netns.ts'
import {KernelOracle} from './oracle.ts'
import type {PacketSpec} from '../../src/model/packet.ts'
import type {Session} from '../../src/engine/trace.ts'

/**
 * Runs `body` with a fresh topology and a started oracle, then closes both and calls `report` (a summary line), even
 * when `body` fails. Without root or tools the test is skipped with `### KERNEL TESTS SKIPPED: … ###` (a failure in
 * CI as root: kernelSkipReason throws).
 */
export async function withKernel(t: TestContext, opts: {conntrackEvents?: boolean}, body: (topo: Topology, oracle: KernelOracle) => Promise<void>, report?: () => void): Promise<void> {
  const reason = kernelSkipReason()
  if (reason) {
    // The TAP reporter prints it as `# \#\#\# KERNEL TESTS SKIPPED: … \#\#\#`: grep for KERNEL TESTS SKIPPED.
    console.log(`### KERNEL TESTS SKIPPED: ${reason} ###`)
    t.skip(reason)
    return
  }
  let topo: Topology | undefined
  let oracle: KernelOracle | undefined
  try {
    topo = createTopology()
    oracle = KernelOracle.start(topo, opts)
    await body(topo, oracle)
  } finally {
    oracle?.close()
    topo?.destroy()
    report?.()
  }
}

/** A fresh engine session for the namespace as it stands now (flows are remembered per session). */
export async function engineSession(netns: string): Promise<Session> {
  const live = await import('../../src/snapshot/live.ts')
  const {Session} = await import('../../src/engine/trace.ts')
  const {files} = await live.collectLive({netns})
  return new Session(live.loadSnapshotFromFiles(files, `live:${netns}`))
}

/** A packet continuing a flow (`reply_of`, `follow_of`, `related_of`), addressed by the engine (packet/spec.ts deriveFromFlow). */
export async function flowSpec(session: Session, input: Record<string, unknown>): Promise<PacketSpec> {
  const {toPacketSpec} = await import('../../src/packet/spec.ts')
  return toPacketSpec(input, {router: session.router, flow: (id) => session.flow(id)})
}
