/**
 * Word splitting of one iptables-save / iptables-restore line, as iptables-restore does it
 * (iptables: xshared.c add_param_to_argv()): words are separated by blanks; a double quote opens a quoted part
 * in which blanks are kept and a backslash makes the next character literal (iptables-save escapes `"`, `\` and
 * `'` that way: libxtables xtables_save_string()). Outside quotes a backslash is an ordinary character.
 */

export interface Words {
  words: string[]
  /** quoted[i]: word i had a quoted part, so it is always a value (never `!` or an option name). May be shorter. */
  quoted: readonly (boolean | undefined)[]
}

export class TokenizeError extends Error {}

const NONE_QUOTED: readonly boolean[] = []

/** Splits a line into words. Throws TokenizeError on an unterminated quote. */
export function tokenize(line: string): Words {
  // Built from native split()s: a per-character loop is several times slower on 700k-line dumps.
  if (line.indexOf('"') < 0) {
    const words = (line.indexOf('\t') >= 0 ? line.replace(/\t/g, ' ') : line).split(' ')
    return {words: words.indexOf('') >= 0 ? words.filter((w) => w !== '') : words, quoted: NONE_QUOTED}
  }
  const parts = line.indexOf('\\') >= 0 ? splitQuotesEscaped(line) : line.split('"')
  if (parts.length % 2 === 0) throw new TokenizeError('unterminated quote')
  const words: string[] = []
  const quoted: boolean[] = []
  let cur: string | undefined
  let curQuoted = false
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k]!
    if (k % 2 === 1) {
      cur = (cur ?? '') + part
      curQuoted = true
      continue
    }
    const pieces = (part.indexOf('\t') >= 0 ? part.replace(/\t/g, ' ') : part).split(' ')
    for (let j = 0; j < pieces.length; j++) {
      if (j > 0 && cur !== undefined) {
        words.push(cur)
        quoted[words.length - 1] = curQuoted
        cur = undefined
        curQuoted = false
      }
      const piece = pieces[j]!
      if (piece !== '') cur = (cur ?? '') + piece
    }
  }
  if (cur !== undefined) {
    words.push(cur)
    quoted[words.length - 1] = curQuoted
  }
  return {words, quoted}
}

/** Like line.split('"'), but inside quotes a backslash escapes the next character (outside it is literal). */
function splitQuotesEscaped(line: string): string[] {
  const parts: string[] = []
  let cur = ''
  let inQuote = false
  let start = 0
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i)
    if (inQuote && c === 0x5c /* backslash */ && i + 1 < line.length) {
      cur += line.slice(start, i)
      start = ++i // the escaped character is copied with the next slice
    } else if (c === 0x22 /* " */) {
      parts.push(cur + line.slice(start, i))
      cur = ''
      start = i + 1
      inQuote = !inQuote
    }
  }
  parts.push(cur + line.slice(start))
  return parts
}

/** A word for messages and Rule text: quoted (with iptables-save's escapes) when it was quoted in the input. */
export function wordText(w: string, quoted: boolean | undefined): string {
  return quoted ? `"${w.replace(/["\\']/g, '\\$&')}"` : w
}
