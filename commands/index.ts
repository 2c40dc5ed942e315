import Snapshot from './snapshot.ts'
import Trace from './trace.ts'

export const COMMANDS = {snapshot: Snapshot, trace: Trace}
