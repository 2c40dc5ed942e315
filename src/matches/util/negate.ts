/** How explanations word a negated option (`! --dport 80`): the fact about the packet, then what `!` made of it. */

/** `sentence` states the fact (before negation); `ok` is the result after negation; `text` the option as written. */
export function withNegation(sentence: string, negated: boolean, ok: boolean, text: string): string {
  if (!negated) return sentence
  return ok ? `${sentence}, as ${text} requires` : `${sentence}, but the rule says ${text}`
}

/** `is` / `is not`, for sentences built from a fact. */
export function is(fact: boolean): string {
  return fact ? 'is' : 'is not'
}
