/**
 * `ipset save` output: `create NAME TYPE [create options]` lines, then `add NAME ELEMENT [element options]`
 * (ipset lib/session.c prints them; list:set sets come last so that their members exist on restore).
 * Problems are reported as `file:line: reason` and reading goes on.
 */
import {tokenize, TokenizeError} from './tokenize.ts'
import {AddrError, parseAddr, parseCidr, type Family} from '../net/addr.ts'
import type {Diagnostic} from '../model/snapshot.ts'
import type {IpSet} from '../model/ipset.ts'
import {createSet, insertElement, SET_TYPES, type ElementMeta, type SetDef, type SnapshotSet} from '../snapshot/ipset.ts'

/** `create` options that take a value; every other known one is a flag. */
const CREATE_VALUED = new Set(['family', 'hashsize', 'maxelem', 'timeout', 'bucketsize', 'initval', 'netmask', 'markmask', 'range', 'size', 'probes', 'resize'])
const CREATE_FLAGS = new Set(['counters', 'comment', 'skbinfo', 'forceadd'])
/** `add` options: value-taking ones (skb* are SET --map-set data, irrelevant to matching). */
const ADD_VALUED = new Set(['timeout', 'packets', 'bytes', 'comment', 'skbmark', 'skbprio', 'skbqueue'])

class LineError extends Error {}

export function parseIpsetSave(text: string, file: string): {sets: Map<string, IpSet>; diagnostics: Diagnostic[]} {
  const sets = new Map<string, SnapshotSet>()
  const skipped = new Set<string>()
  const diagnostics: Diagnostic[] = []
  const resolve = (name: string) => sets.get(name)
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '' || line.startsWith('#')) continue
    try {
      const {words} = tokenize(line)
      const [cmd, name] = words
      if (!name) throw new LineError(`${cmd} needs a set name`)
      if (cmd === 'create') {
        if (sets.has(name) || skipped.has(name)) throw new LineError(`set ${name} is created twice`)
        const type = words[2]
        if (!type) throw new LineError(`create ${name} needs a type`)
        if (!(SET_TYPES as readonly string[]).includes(type)) {
          skipped.add(name)
          throw new LineError(`set type ${type} is not modelled; set ${name} is left out (rules using it get "set not in snapshot")`)
        }
        sets.set(name, createSet(parseCreate(name, type, words.slice(3)), resolve))
      } else if (cmd === 'add') {
        if (skipped.has(name)) continue
        const set = sets.get(name)
        if (!set) throw new LineError(`add to set ${name}, which has no create line before it`)
        if (!words[2]) throw new LineError(`add ${name} needs an element`)
        insertElement(set, words[2], parseAddOptions(words.slice(3), set.type, diagnostics, file, i + 1))
      } else {
        throw new LineError(`unknown command ${JSON.stringify(cmd)} (expected create or add)`)
      }
    } catch (e) {
      if (!(e instanceof LineError || e instanceof AddrError || e instanceof TokenizeError)) throw e
      diagnostics.push({file, line: i + 1, message: e.message, severity: 'error'})
    }
  }
  return {sets: new Map<string, IpSet>(sets), diagnostics}
}

function parseCreate(name: string, type: string, words: string[]): SetDef {
  const options: Record<string, string> = {}
  for (let i = 0; i < words.length; i++) {
    const w = words[i]
    if (CREATE_VALUED.has(w)) {
      if (words[i + 1] === undefined) throw new LineError(`create option ${w} needs a value`)
      options[w] = words[++i]
    } else if (CREATE_FLAGS.has(w)) options[w] = ''
    else throw new LineError(`unknown create option ${JSON.stringify(w)}`)
  }
  let family: Family | undefined
  if (options.family === 'inet') family = 4
  else if (options.family === 'inet6') family = 6
  else if (options.family !== undefined) throw new LineError(`unknown family ${JSON.stringify(options.family)}`)
  // hash:ip*/net* default to inet (ipset lib/types.c); bitmap:ip(,mac) is IPv4 only; the rest have no family.
  else if (type.startsWith('bitmap:ip') || (type.startsWith('hash:') && type !== 'hash:mac')) family = 4
  const def: SetDef = {name, type, family, options, markmask: 0xffffffff, counters: 'counters' in options}
  if (options.netmask !== undefined) {
    const n = Number(options.netmask)
    if (!Number.isInteger(n) || n < 1 || n > (family === 6 ? 128 : 32)) throw new LineError(`bad netmask ${options.netmask}`)
    def.netmask = n
  }
  if (options.markmask !== undefined) def.markmask = Number(options.markmask) >>> 0
  if (type.startsWith('bitmap:')) {
    if (options.range === undefined) throw new LineError(`${type} needs a range`)
    def.range = type === 'bitmap:port' ? portRange(options.range) : addrRange(options.range)
  }
  return def
}

function portRange(text: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text)
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535) throw new LineError(`bad port range ${text}`)
  return [Number(m[1]), Number(m[2])]
}

/** bitmap:ip ranges: `a-b` as saved, or a prefix as given on creation. */
function addrRange(text: string): [number, number] {
  const dash = text.indexOf('-')
  if (dash < 0) {
    const c = parseCidr(text)
    return [c.v4net, (c.v4net | ~c.v4mask) >>> 0]
  }
  const a = parseAddr(text.slice(0, dash))
  const b = parseAddr(text.slice(dash + 1))
  if (a.family !== 4 || b.family !== 4 || a.v4 > b.v4) throw new LineError(`bad IPv4 range ${text}`)
  return [a.v4, b.v4]
}

function parseAddOptions(words: string[], type: string, diagnostics: Diagnostic[], file: string, line: number): ElementMeta {
  const meta: ElementMeta = {}
  for (let i = 0; i < words.length; i++) {
    const w = words[i]
    if (w === 'nomatch') {
      if (!type.includes('net')) throw new LineError(`nomatch is only valid for net types, not ${type}`)
      meta.nomatch = true
    } else if (ADD_VALUED.has(w)) {
      const v = words[++i]
      if (v === undefined) throw new LineError(`element option ${w} needs a value`)
      if (w === 'comment') meta.comment = v
      else if (w === 'timeout' || w === 'packets' || w === 'bytes') {
        if (!/^\d+$/.test(v)) throw new LineError(`bad ${w} value ${JSON.stringify(v)}`)
        meta[w] = Number(v)
      }
    } else {
      diagnostics.push({file, line, message: `element option ${JSON.stringify(w)} ignored`, severity: 'warning'})
    }
  }
  return meta
}
