/**
 * A `-j NAME` that is neither a chain of the table nor a modelled target (or whose options could not be read).
 * Assumed non-terminating: the packet goes on to the next rule, and the trace says so.
 */
import type {TargetKind, TargetInstance} from './types.ts'

export interface UnmodelledTargetSpec {
  name: string
  reason?: string
}

export const unmodelledTarget: TargetKind<UnmodelledTargetSpec> = {
  name: 'unmodelled',
  options: [],
  parse: () => {
    throw new Error('unmodelled targets are built with unmodelledTargetInstance()')
  },
  apply: (spec) => {
    const what = spec.reason
      ? `target ${spec.name} could not be read (${spec.reason})`
      : `target ${spec.name} is not modelled`
    return {
      verdict: 'CONTINUE',
      effects: [{kind: 'note', unmodelled: true, text: `${what}; assumed to let the packet continue (like a non-terminating target)`}],
    }
  },
}

export function unmodelledTargetInstance(name: string, text: string, reason?: string): TargetInstance<UnmodelledTargetSpec> {
  return {kind: unmodelledTarget, spec: reason === undefined ? {name} : {name, reason}, text, goto: false, unmodelled: true}
}
