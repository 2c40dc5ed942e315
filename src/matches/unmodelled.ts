/**
 * A `-m NAME` no module models, or one whose options could not be read. It keeps the rule's place in its chain
 * and says so at every evaluation: the rule is assumed to match, which is the choice that lets the rest of the
 * rule (its target) show up in the trace rather than hiding it.
 */
import type {MatchKind, MatchInstance} from './types.ts'

export interface UnmodelledMatchSpec {
  /** The `-m` name. */
  name: string
  /** Why it is unmodelled, when the module exists but could not read its options. */
  reason?: string
}

function assumption(spec: UnmodelledMatchSpec): string {
  return spec.reason
    ? `match ${spec.name} could not be read (${spec.reason}); assumed to match`
    : `match ${spec.name} is not modelled; assumed to match`
}

export const unmodelledMatch: MatchKind<UnmodelledMatchSpec> = {
  name: 'unmodelled',
  options: [],
  parse: () => {
    throw new Error('unmodelled matches are built with unmodelledMatchInstance()')
  },
  eval: (spec) => ({ok: true, assumed: assumption(spec)}),
  explain: (spec) => assumption(spec),
}

/** `text` is the match as written (`-m nfacct --nfacct-name x`); the explanation names it through the rule. */
export function unmodelledMatchInstance(name: string, text: string, reason?: string): MatchInstance<UnmodelledMatchSpec> {
  return {kind: unmodelledMatch, spec: reason === undefined ? {name} : {name, reason}, text, unmodelled: true}
}
