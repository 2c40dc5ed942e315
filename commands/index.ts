import Trace from './trace.ts'

export const COMMANDS = {trace: Trace}
