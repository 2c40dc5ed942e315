/**
 * Word splitting of one iptables-save / iptables-restore line, as iptables-restore does it
 * (iptables: xshared.c add_param_to_argv()): words are separated by blanks; a double quote opens a quoted part
 * in which blanks are kept and a backslash makes the next character literal (iptables-save escapes `"`, `\` and
 * `'` that way: libxtables xtables_save_string()). Outside quotes a backslash is an ordinary character.
 */

export interface Words {
  words: string[]
  /** quoted[i]: word i had a quoted part, so it is always a value (never `!` or an option name). */
  quoted: boolean[]
}

export class TokenizeError extends Error {}

const SPACE = 0x20
const TAB = 0x09
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Splits a line into words. Throws TokenizeError on an unterminated quote. */
export function tokenize(line: string): Words {
  // Fast path: most lines of a big dump have no quote and single spaces only.
  if (line.indexOf('"') < 0 && line.indexOf('\t') < 0) {
    const words = line.split(' ')
    if (words.indexOf('') >= 0) {
      const kept = words.filter((w) => w !== '')
      return {words: kept, quoted: new Array<boolean>(kept.length).fill(false)}
    }
    return {words, quoted: new Array<boolean>(words.length).fill(false)}
  }
  const words: string[] = []
  const quoted: boolean[] = []
  let cur = ''
  let inWord = false
  let wasQuoted = false
  let inQuote = false
  let start = 0
  const n = line.length
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i)
    if (inQuote) {
      if (c === BACKSLASH && i + 1 < n) {
        cur += line.slice(start, i)
        start = ++i // the escaped character is copied with the next slice
      } else if (c === QUOTE) {
        cur += line.slice(start, i)
        inQuote = false
        start = i + 1
      }
    } else if (c === QUOTE) {
      cur += line.slice(start, i)
      inQuote = inWord = wasQuoted = true
      start = i + 1
    } else if (c === SPACE || c === TAB) {
      if (inWord) {
        words.push(cur + line.slice(start, i))
        quoted.push(wasQuoted)
      }
      cur = ''
      inWord = wasQuoted = false
      start = i + 1
    } else {
      inWord = true
    }
  }
  if (inQuote) throw new TokenizeError('unterminated quote')
  if (inWord) {
    words.push(cur + line.slice(start))
    quoted.push(wasQuoted)
  }
  return {words, quoted}
}

/** A word for messages and Rule text: quoted (with iptables-save's escapes) when it was quoted in the input. */
export function wordText(w: string, quoted: boolean): string {
  return quoted ? `"${w.replace(/["\\']/g, '\\$&')}"` : w
}
