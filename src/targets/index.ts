/**
 * The target registry, keyed by `-j` name. A `-j` naming a chain of the same table is a jump (targets/jump.ts);
 * a name known to neither is unmodelled (targets/unmodelled.ts).
 */
import type {TargetKind} from './types.ts'
import {acceptTarget} from './accept.ts'
import {dropTarget} from './drop.ts'
import {rejectTarget} from './reject.ts'
import {returnTarget} from './return.ts'
import {markTarget} from './mark.ts'
import {connmarkTarget} from './connmark.ts'
import {logTarget} from './log.ts'
import {nflogTarget} from './nflog.ts'
import {traceTarget} from './trace.ts'
import {ctTarget} from './ct.ts'
import {notrackTarget} from './notrack.ts'
import {setTarget} from './set.ts'
import {tcpmssTarget} from './tcpmss.ts'
import {tosTarget} from './tos.ts'
import {dscpTarget} from './dscp.ts'
import {classifyTarget} from './classify.ts'
import {checksumTarget} from './checksum.ts'
import {tproxyTarget} from './tproxy.ts'
import {nfqueueTarget} from './nfqueue.ts'
import {ttlTarget} from './ttl.ts'
import {hlTarget} from './hl.ts'
import {dnatTarget} from './dnat.ts'
import {snatTarget} from './snat.ts'
import {masqueradeTarget} from './masquerade.ts'
import {redirectTarget} from './redirect.ts'
import {netmapTarget} from './netmap.ts'

const TARGETS: TargetKind[] = [
  acceptTarget, dropTarget, rejectTarget, returnTarget, markTarget, connmarkTarget,
  logTarget, nflogTarget, traceTarget, ctTarget, notrackTarget, setTarget,
  tcpmssTarget, tosTarget, dscpTarget, classifyTarget, checksumTarget, tproxyTarget,
  nfqueueTarget, ttlTarget, hlTarget, dnatTarget, snatTarget, masqueradeTarget,
  redirectTarget, netmapTarget,
]

const byName = new Map<string, TargetKind>(TARGETS.map((t) => [t.name, t]))

export function targetModule(name: string): TargetKind | undefined {
  return byName.get(name)
}
