/**
 * The iptables-save parser: `*table` blocks of `:CHAIN POLICY [p:b]` declarations, `[p:b] -A CHAIN ...` rules and
 * `COMMIT`, as printed by iptables-save / ip6tables-save (with or without -c), and the iptables-restore input
 * kube-proxy writes (same grammar). Every rule becomes header matches, `-m` matches and a target through the
 * match/target registries; whatever cannot be read becomes a `file:line: reason` diagnostic and an unmodelled
 * instance, so chain positions stay right and reading goes on.
 */
import type {Family} from '../net/addr.ts'
import type {Chain, Rule, Ruleset, Table} from '../model/ruleset.ts'
import type {Diagnostic} from '../model/snapshot.ts'
import {PROTO, protoName} from '../model/packet.ts'
import {OptionError, type MatchInstance, type MatchKind, type OptionArg, type ParseCtx} from '../matches/types.ts'
import type {TargetInstance, TargetKind} from '../targets/types.ts'
import {HEADER_MATCHES, matchModule} from '../matches/index.ts'
import {targetModule} from '../targets/index.ts'
import {jumpTarget} from '../targets/jump.ts'
import {unmodelledMatchInstance} from '../matches/unmodelled.ts'
import {unmodelledTargetInstance} from '../targets/unmodelled.ts'
import {tokenize, wordText, type Words} from './tokenize.ts'

/** Built-in chains of each table: the hooks it registers (net/ipv4/netfilter/iptable_{raw,mangle,nat,filter,security}.c). */
export const BUILTIN_CHAINS: Readonly<Record<string, readonly string[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
}

type HeaderLetter = keyof typeof HEADER_MATCHES
/** Kernel order of the ipt_ip header checks (ip_tables.c ip_packet_match()): addresses, interfaces, proto, frag. */
const HEADER_ORDER: readonly HeaderLetter[] = ['s', 'd', 'i', 'o', 'p', 'f']
const HEADER_OPTIONS: Readonly<Record<string, HeaderLetter>> = {
  '-s': 's', '--source': 's', '--src': 's',
  '-d': 'd', '--destination': 'd', '--dst': 'd',
  '-i': 'i', '--in-interface': 'i',
  '-o': 'o', '--out-interface': 'o',
  '-p': 'p', '--protocol': 'p',
  '-f': 'f', '--fragment': 'f',
}

export interface RuleLineCtx {
  family: Family
  table: string
  /** Chains of the table (a `-j` naming one is a jump). Default: none besides the rule's own. */
  chains?: ReadonlyMap<string, unknown> | ReadonlySet<string>
  file?: string
  line?: number
  /** 1-based position in the chain (default 1). */
  index?: number
  /** Where problems go; without it, the first error is thrown as an OptionError `file:line: reason`. */
  diagnostics?: Diagnostic[]
}

/** One `-m` (explicit or implied by `-p`) collecting its options while the rule is read. */
interface MatchSlot {
  name: string
  /** undefined: unmodelled `-m`, or (implicit) not known until the whole rule is read. */
  kind?: MatchKind
  implicit: boolean
  /** Another `-m` of the same name started: later options go to the new one (libxtables xtables_find_match()). */
  completed: boolean
  opts: OptionArg[]
}

interface TargetSlot {
  name: string
  goto: boolean
  /** undefined: unmodelled target. */
  kind?: TargetKind
  opts: OptionArg[]
  /** The `-j NAME` / `-g NAME` words. */
  head: string
}

/** Reads one rule; problems go to `report`. Exported through parseRuleLine() and used by parseIptablesSave(). */
class RuleReader {
  constructor(
    private readonly family: Family,
    private readonly table: string,
    private readonly chains: ReadonlyMap<string, unknown> | ReadonlySet<string>,
    private readonly report: (severity: Diagnostic['severity'], message: string, line: number) => void,
    private readonly seenUnmodelled: (what: 'match' | 'target', name: string, line: number) => void,
    /** Parsed instances by cacheKey(): big dumps repeat `-p tcp`, `-m tcp --dport 80`, `-j KUBE-MARK-MASQ` a lot. */
    private readonly cache = new Map<string, MatchInstance | TargetInstance>(),
  ) {}

  /** The line of the rule being read, for diagnostics (lazy rules are read long after the file). */
  private line = 0

  private say(severity: Diagnostic['severity'], message: string): void {
    this.report(severity, message, this.line)
  }

  /**
   * A rule from its `-A CHAIN ...` text. `lazy`: matches and target are parsed on first access (700k-rule dumps
   * load fast and a trace parses only the rules it meets); their diagnostics arrive then.
   */
  read(text: string, counters: Rule['counters'], chain: string, index: number, source: Rule['source'], lazy = false): Rule {
    const rule = {chain, index, text, source} as Rule
    if (counters) rule.counters = counters
    if (!lazy) {
      this.fill(rule)
      return rule
    }
    return new LazyRule(rule, this)
  }

  /** Parses the rule's options into rule.matches / rule.target (and `-c` counters), as plain properties. */
  fill(rule: Rule): void {
    this.line = rule.source.line
    const define = (prop: 'matches' | 'target' | 'counters', value: unknown): void => {
      Object.defineProperty(rule, prop, {value, writable: true, configurable: true, enumerable: true})
    }
    // Own properties from here on (a LazyRule's getters are shadowed, so it parses once).
    define('matches', [])
    define('target', undefined)
    let words: Words
    try {
      words = tokenize(rule.text)
    } catch (e) {
      const reason = errorReason(e)
      this.say('error', `${reason}; the rule is kept as one unmodelled match without target`)
      define('matches', [unmodelledMatchInstance('rule', rule.text, reason)])
      return
    }
    const parts = this.scan(words)
    const {headers, slots, target} = parts
    const chain = rule.chain
    const proto = this.protoOf(headers.get('p'))
    const ctx: ParseCtx = proto === undefined ? {family: this.family, table: this.table, chain} : {family: this.family, table: this.table, chain, proto}
    const matches: MatchInstance[] = []
    for (const letter of HEADER_ORDER) {
      const opt = headers.get(letter)
      if (opt) matches.push(this.instance(HEADER_MATCHES[letter], [opt], ctx, opt.text, `-${letter}`))
    }
    for (const slot of slots) {
      if (slot.implicit) {
        matches.push(this.implicitMatch(slot, headers.get('p'), ctx))
        continue
      }
      const text = slot.opts.length ? `-m ${slot.name} ${slot.opts.map((o) => o.text).join(' ')}` : `-m ${slot.name}`
      matches.push(slot.kind ? this.instance(slot.kind, slot.opts, ctx, text, slot.name) : unmodelledMatchInstance(slot.name, text))
    }
    define('matches', matches)
    if (parts.counters) define('counters', parts.counters)
    if (target) define('target', this.targetInstance(target, ctx))
  }

  /** Splits a rule's words into header options, `-m` slots with their options, and the target (no module parsing). */
  scan(words: Words): {headers: Map<HeaderLetter, OptionArg>; slots: MatchSlot[]; target?: TargetSlot; counters?: Rule['counters']} {
    const {words: w, quoted: q} = words
    let counters: Rule['counters']
    const n = w.length
    const headers = new Map<HeaderLetter, OptionArg>()
    const slots: MatchSlot[] = []
    let target: TargetSlot | undefined
    let current: MatchSlot | TargetSlot | undefined
    let implicit: MatchSlot | undefined
    let negNext = false

    let i = 2
    while (i < n) {
      const word = w[i]!
      if (!q[i] && word === '!') {
        if (negNext) this.say('error', 'two `!` in a row')
        negNext = true
        i++
        continue
      }
      if (q[i] || word.length < 2 || word.charCodeAt(0) !== 0x2d /* - */) {
        this.say('error', `unexpected word ${wordText(word, q[i])} (not after an option)`)
        i++
        continue
      }
      i++
      if (word === '-m' || word === '--match' || word === '-j' || word === '--jump' || word === '-g' || word === '--goto') {
        const name = w[i]
        if (name === undefined || q[i]) {
          this.say('error', `${word} needs a name`)
          break
        }
        i++
        if (negNext) this.say('error', `\`!\` cannot negate ${word} ${name}`)
        negNext = false
        if (word === '-m' || word === '--match') {
          for (const s of slots) if (s.name === name) s.completed = true
          const slot: MatchSlot = {name, kind: matchModule(name), implicit: false, completed: false, opts: []}
          if (!slot.kind) this.seenUnmodelled('match', name, this.line)
          slots.push(slot)
          current = slot
        } else {
          if (target) this.say('error', `a second target ${word} ${name} (the rule already has ${target.head})`)
          else target = this.targetSlot(name, word === '-g' || word === '--goto', `${word} ${name}`)
          current = target
        }
        continue
      }

      // An option with its values: `!` right after the name is the old-style negation of the values.
      let negated = negNext
      negNext = false
      let oldNeg = false
      if (i + 1 < n && !q[i] && w[i] === '!' && (q[i + 1] || w[i + 1]!.charCodeAt(0) !== 0x2d)) {
        if (negated) this.say('error', `two \`!\` for ${word}`)
        negated = oldNeg = true
        i++
      }
      const start = i
      while (i < n && (q[i] || (w[i]!.charCodeAt(0) !== 0x2d && w[i] !== '!'))) i++
      const values = w.slice(start, i)
      let optText = negated && !oldNeg ? `! ${word}` : word
      if (oldNeg) optText += ' !'
      for (let k = start; k < i; k++) optText += ' ' + wordText(w[k]!, q[k])

      const letter = HEADER_OPTIONS[word]
      if (letter) {
        if (headers.has(letter)) this.say('error', `${optText}: only one -${letter} is allowed in a rule`)
        else headers.set(letter, {name: letter, values, negated, text: optText})
        current = undefined
        continue
      }
      if (word === '-c' || word === '--set-counters') {
        if (values.length === 2 && /^\d+$/.test(values[0]!) && /^\d+$/.test(values[1]!)) counters = {packets: BigInt(values[0]!), bytes: BigInt(values[1]!)}
        else this.say('error', `${optText}: expects packets and bytes`)
        continue
      }
      const opt: OptionArg = {name: word.slice(word.charCodeAt(1) === 0x2d ? 2 : 1), values, negated, text: optText}
      const owner = this.owner(opt.name, current, slots, target)
      if (owner) {
        owner.opts.push(opt)
        continue
      }
      // No module of the rule takes it: iptables then loads the module named by `-p` (xshared.c command_default()).
      if (!implicit || implicit.completed) {
        implicit = {name: '', implicit: true, completed: false, opts: []}
        slots.push(implicit)
      }
      implicit.opts.push(opt)
    }
    if (negNext) this.say('error', '`!` at the end of the rule')
    return counters ? {headers, slots, target, counters} : {headers, slots, target}
  }

  /** Which slot an option belongs to: the current `-m`/target if it takes it, else the first open `-m` that does. */
  private owner(name: string, current: MatchSlot | TargetSlot | undefined, slots: MatchSlot[], target: TargetSlot | undefined): MatchSlot | TargetSlot | undefined {
    // An unmodelled `-m`/target takes every option after it: we do not know its option names.
    if (current && (!current.kind || current.kind.options.includes(name))) return current
    for (const s of slots) if (s.kind && !s.completed && !s.implicit && s.kind.options.includes(name)) return s
    if (target?.kind && target.kind.options.includes(name)) return target
    return undefined
  }

  private targetSlot(name: string, goto: boolean, head: string): TargetSlot {
    if (this.chains.has(name)) {
      if ((BUILTIN_CHAINS[this.table] ?? []).includes(name)) this.say('error', `${head}: cannot jump to built-in chain ${name}`)
      return {name, goto, kind: jumpTarget, opts: [{name: goto ? 'g' : 'j', values: [name], negated: false, text: head}], head}
    }
    if (goto) {
      this.say('error', `${head}: no chain ${name} in table ${this.table}`)
      return {name, goto, opts: [], head}
    }
    const kind = targetModule(name)
    if (!kind) {
      // A name that looks like a chain (not an all-caps target name like CT or TPROXY) is a jump to a missing chain.
      if (/[a-z]/.test(name) || name.includes('-')) this.say('error', `${head}: no chain ${name} in table ${this.table}`)
      else this.seenUnmodelled('target', name, this.line)
    }
    return {name, goto, kind, opts: [], head}
  }

  private targetInstance(t: TargetSlot, ctx: ParseCtx): TargetInstance {
    const text = t.kind === jumpTarget ? t.head : [t.head, ...t.opts.map((o) => o.text)].join(' ')
    if (!t.kind) return {...unmodelledTargetInstance(t.name, text), goto: t.goto}
    const key = cacheKey('j', t.kind.name, ctx, text)
    const cached = this.cache.get(key) as TargetInstance | undefined
    if (cached) return cached
    try {
      const inst: TargetInstance = {kind: t.kind, spec: t.kind.parse(t.opts, ctx), text, goto: t.goto}
      this.cache.set(key, inst)
      return inst
    } catch (e) {
      const reason = errorReason(e)
      this.say('error', withText(text, reason))
      return {...unmodelledTargetInstance(t.name, text, reason), goto: t.goto}
    }
  }

  private instance(kind: MatchKind, opts: OptionArg[], ctx: ParseCtx, text: string, name: string): MatchInstance {
    const shared = !PER_RULE_STATE.has(kind.name)
    const key = cacheKey('m', kind.name, ctx, text)
    const cached = shared ? (this.cache.get(key) as MatchInstance | undefined) : undefined
    if (cached) return cached
    try {
      const inst: MatchInstance = {kind, spec: kind.parse(opts, ctx), text}
      if (shared) this.cache.set(key, inst)
      return inst
    } catch (e) {
      const reason = errorReason(e)
      this.say('error', withText(text, reason))
      return unmodelledMatchInstance(name, text, reason)
    }
  }

  /** The module `-p NAME` implies for options no `-m` took (libxtables load_proto()), or an error for each option. */
  private implicitMatch(slot: MatchSlot, p: OptionArg | undefined, ctx: ParseCtx): MatchInstance {
    const text = slot.opts.map((o) => o.text).join(' ')
    const name = implicitModuleName(ctx.proto)
    const kind = name === undefined ? undefined : matchModule(name)
    const unknown = kind ? slot.opts.filter((o) => !kind.options.includes(o.name)) : slot.opts
    if (unknown.length) {
      const why = p?.negated ? ` (-p is negated: ${p.text})` : p ? '' : ' (and no -p protocol to imply a module)'
      for (const o of unknown) this.say('error', `unknown option ${o.text}${why}`)
      return unmodelledMatchInstance(name ?? 'unknown', text, `unknown option ${unknown[0]!.text}`)
    }
    return this.instance(kind!, slot.opts, ctx, text, name!)
  }

  /** `-p` as a protocol number for the modules that need it; undefined when absent, negated or `all`. */
  protoOf(p: OptionArg | undefined): number | undefined {
    if (!p || p.negated || p.values.length !== 1) return undefined
    const v = p.values[0]!.toLowerCase()
    const n = /^\d+$/.test(v) ? Number(v) : v === 'ipv6-icmp' || v === 'icmp6' ? PROTO.icmpv6 : (PROTO as Record<string, number>)[v]
    return n === 0 ? undefined : n
  }
}

const READER = Symbol('reader')

/**
 * A rule whose options are parsed on first access of matches/target (prototype getters: no per-rule closures,
 * which matters at 700k rules). Own data stays plain; toJSON() shows the parsed form.
 */
class LazyRule implements Rule {
  chain: string
  index: number
  text: string
  source: Rule['source']
  counters?: Rule['counters']
  private [READER]?: RuleReader

  constructor(base: Rule, reader: RuleReader) {
    this.chain = base.chain
    this.index = base.index
    this.text = base.text
    this.source = base.source
    if (base.counters) this.counters = base.counters
    this[READER] = reader
  }

  get matches(): MatchInstance[] {
    this.parse()
    return this.matches
  }

  get target(): TargetInstance | undefined {
    this.parse()
    return this.target
  }

  /** fill() defines matches/target as own properties, which shadow the getters from then on. */
  private parse(): void {
    const reader = this[READER]!
    this[READER] = undefined
    reader.fill(this)
  }

  toJSON(): Rule {
    const {chain, index, text, source, counters, matches, target} = this
    return {chain, index, text, source, matches, ...(counters ? {counters} : {}), ...(target ? {target} : {})}
  }
}

/** The module `-p` loads for options without `-m` (libxtables: the protocol's name; `icmp6` for IPv6-ICMP). */
function implicitModuleName(proto: number | undefined): string | undefined {
  return proto === undefined ? undefined : proto === PROTO.icmpv6 ? 'icmp6' : protoName(proto)
}

/**
 * Modules whose spec object is also the key of per-rule kernel state (`statistic --mode nth` counts per rule,
 * net/netfilter/xt_statistic.c): two rules with the same text must not share one spec.
 */
const PER_RULE_STATE: ReadonlySet<string> = new Set(['statistic'])

/**
 * Same text → same parse, given what parse() may read from ParseCtx: family, table, proto, and the chain only when
 * it is a built-in one (modules check hook restrictions like `mac` in OUTPUT; all user chains look alike to them).
 */
function cacheKey(kind: 'm' | 'j', name: string, ctx: ParseCtx, text: string): string {
  const chain = (BUILTIN_CHAINS[ctx.table] ?? []).includes(ctx.chain) ? ctx.chain : ''
  return `${kind}${ctx.family}\0${ctx.table}\0${chain}\0${ctx.proto ?? ''}\0${name}\0${text}`
}

/** `-m tcp --dport x: reason`, unless the module's reason already starts with the option it is about. */
function withText(text: string, reason: string): string {
  return reason.startsWith('-') || reason.startsWith('! ') ? reason : `${text}: ${reason}`
}

function errorReason(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** How a rule's options were split between the header, its matches and its target (before module parsing). */
export interface RuleParts {
  chain: string
  /** Header options in kernel order, named by their short letter (`s`, `d`, `i`, `o`, `p`, `f`). */
  headers: OptionArg[]
  /** `-m` modules in rule order; `implicit` ones were loaded by `-p` (name empty when `-p` names no module). */
  matches: {name: string; implicit: boolean; opts: OptionArg[]}[]
  target?: {name: string; goto: boolean; chain: boolean; opts: OptionArg[]}
}

/** Parses one `[p:b] -A CHAIN ...` line (for tests and the REPL). */
export function parseRuleLine(line: string, ctx: RuleLineCtx): Rule {
  const {reader, split, chain, source} = prepareLine(line, ctx)
  return reader.read(split.text, split.counters, chain, ctx.index ?? 1, source)
}

/** Which module or target each option of a rule line went to (tests and `explain` of a rule). */
export function ruleParts(line: string, ctx: RuleLineCtx): RuleParts {
  const {reader, split, chain} = prepareLine(line, ctx)
  const {headers, slots, target} = reader.scan(tokenize(split.text))
  const implicitName = implicitModuleName(reader.protoOf(headers.get('p'))) ?? ''
  const parts: RuleParts = {
    chain,
    headers: HEADER_ORDER.flatMap((l) => headers.get(l) ?? []),
    matches: slots.map((s) => ({name: s.implicit ? implicitName : s.name, implicit: s.implicit, opts: s.opts})),
  }
  if (target) parts.target = {name: target.name, goto: target.goto, chain: target.kind === jumpTarget, opts: target.kind === jumpTarget ? [] : target.opts}
  return parts
}

function prepareLine(line: string, ctx: RuleLineCtx): {reader: RuleReader; split: ReturnType<typeof splitRuleLine>; chain: string; source: Rule['source']} {
  const file = ctx.file ?? '<rule>'
  const lineNo = ctx.line ?? 1
  const report = (severity: Diagnostic['severity'], message: string): void => {
    if (!ctx.diagnostics) {
      if (severity === 'error') throw new OptionError(`${file}:${lineNo}: ${message}`)
      return
    }
    ctx.diagnostics.push({file, line: lineNo, message, severity})
  }
  const split = splitRuleLine(line)
  const chain = chainOf(split.text)
  if (chain === undefined) report('error', 'a rule line starts with -A CHAIN')
  const reader = new RuleReader(ctx.family, ctx.table, ctx.chains ?? new Set([chain ?? '']), report, () => {})
  return {reader, split, chain: chain ?? '', source: {file, line: lineNo}}
}

/** `-A CHAIN ...` → CHAIN (chain names hold no blanks or quotes), undefined when the line is no -A. */
function chainOf(text: string): string | undefined {
  const start = text.startsWith('-A ') ? 3 : text.startsWith('--append ') ? 9 : -1
  if (start < 0) return undefined
  const end = text.indexOf(' ', start)
  const chain = text.slice(start, end < 0 ? undefined : end)
  return chain === '' ? undefined : chain
}

/** `[12:345] -A X ...` → counters and the text from `-A` on. */
function splitRuleLine(line: string): {text: string; counters?: Rule['counters']} {
  if (line.charCodeAt(0) !== 0x5b /* [ */) return {text: line}
  const end = line.indexOf(']')
  const counters = parseCounters(line.slice(0, end + 1))
  return counters ? {text: line.slice(end + 1).trimStart(), counters} : {text: line}
}

/** `[pkts:bytes]` → bigints, or undefined when malformed. */
function parseCounters(s: string): {packets: bigint; bytes: bigint} | undefined {
  const m = /^\[(\d+):(\d+)\]$/.exec(s)
  return m ? {packets: BigInt(m[1]!), bytes: BigInt(m[2]!)} : undefined
}

interface OpenTable {
  table: Table
  line: number
  rules: {line: number; text: string; counters?: Rule['counters']}[]
}

const ASSUMED = {match: 'assumed to match', target: 'assumed to let the packet continue'} as const

export interface ParseOptions {
  /**
   * Parse each rule's matches and target on first access instead of now. Loading a 700k-line kube-proxy dump then
   * costs a line split per rule; problems in a rule's options reach `diagnostics` (same array) when it is read,
   * and an unmodelled module is reported at its first use instead of once with a count. Default false.
   */
  lazy?: boolean
}

/** Parses a whole iptables-save / ip6tables-save dump. Never throws: problems are diagnostics. */
export function parseIptablesSave(text: string, file: string, family: Family, options: ParseOptions = {}): {ruleset: Ruleset; diagnostics: Diagnostic[]} {
  const lazy = options.lazy ?? false
  const diagnostics: Diagnostic[] = []
  const ruleset: Ruleset = {family, tables: new Map(), notes: []}
  const unmodelled = new Map<string, {count: number; line: number}>()
  let lineNo = 0
  const report = (severity: Diagnostic['severity'], message: string, line = lineNo): void => {
    diagnostics.push({file, line, message, severity})
  }
  let open: OpenTable | undefined

  const close = (): void => {
    const {table, rules} = open!
    open = undefined
    const reader = tableReader(table)
    for (const r of rules) {
      lineNo = r.line
      const chainName = chainOf(r.text)
      if (chainName === undefined) {
        report('error', 'rule without a chain name; skipped')
        continue
      }
      let chain = table.chains.get(chainName)
      if (!chain) {
        const builtin = (BUILTIN_CHAINS[table.name] ?? []).includes(chainName)
        // iptables-restore input (kube-proxy's) may use a built-in chain without declaring it: it always exists.
        if (builtin) report('info', `built-in chain ${chainName} not declared; assuming policy ACCEPT`)
        else report('error', `chain ${chainName} is not declared in table ${table.name}`)
        chain = {name: chainName, builtin, rules: [], source: {file, line: lineNo}}
        if (builtin) chain.policy = 'ACCEPT'
        table.chains.set(chainName, chain)
      }
      chain.rules.push(reader.read(r.text, r.counters, chainName, chain.rules.length + 1, {file, line: lineNo}, lazy))
    }
  }
  const cache = new Map<string, MatchInstance | TargetInstance>()
  const tableReader = (table: Table): RuleReader =>
    new RuleReader(family, table.name, table.chains, report, (what, name, line) => {
      const key = `${what} ${name}`
      const u = unmodelled.get(key)
      if (u) u.count++
      else unmodelled.set(key, {count: 1, line})
      if (!u && lazy) report('warning', `${what} ${name} is not modelled; ${ASSUMED[what]}`, line)
    }, cache)

  const lines = text.split('\n')
  for (let li = 0; li < lines.length; li++) {
    lineNo = li + 1
    let line = lines[li]!
    if (line.endsWith('\r')) line = line.slice(0, -1)
    const c = line.charCodeAt(0)
    if (c === 0x2d /* - */ || c === 0x5b /* [ */) {
      const split = splitRuleLine(line)
      if (c === 0x5b && !split.counters) report('error', 'malformed counters prefix (expected [packets:bytes])')
      else if (!split.text.startsWith('-A ') && !split.text.startsWith('--append ')) {
        const cmd = split.text.split(' ', 1)[0]
        report('error', `${cmd}: only -A rules are read (iptables-save output); line ignored`)
      } else if (!open) report('error', 'rule outside a table (no *table line before it)')
      else open.rules.push(split.counters ? {line: lineNo, text: split.text, counters: split.counters} : {line: lineNo, text: split.text})
    } else if (c === 0x3a /* : */) {
      if (!open) report('error', 'chain declaration outside a table (no *table line before it)')
      else declareChain(open.table, line)
    } else if (c === 0x2a /* * */) {
      if (open) {
        report('error', `table ${open.table.name} (line ${open.line}) has no COMMIT before *${line.slice(1)}`)
        close()
        lineNo = li + 1
      }
      const name = line.slice(1).trim()
      if (!BUILTIN_CHAINS[name]) report('warning', `unknown table ${name}`)
      if (ruleset.tables.has(name)) report('warning', `table ${name} appears again; the later one replaces it (as iptables-restore does)`)
      const table: Table = {name, family, chains: new Map()}
      ruleset.tables.set(name, table)
      open = {table, line: lineNo, rules: []}
    } else if (line === 'COMMIT') {
      if (!open) report('error', 'COMMIT without a table')
      else close()
    } else if (c === 0x23 /* # */) {
      comment(line)
    } else if (line.trim() !== '') {
      report('error', `unexpected line: ${line.length > 60 ? line.slice(0, 60) + '…' : line}`)
    }
  }
  if (open) {
    const {table, line} = open
    lineNo = lines.length
    report('warning', `truncated: table ${table.name} (line ${line}) has no COMMIT; loaded as read`)
    close()
  }
  for (const [key, u] of unmodelled) {
    const [what, name] = key.split(' ') as ['match' | 'target', string]
    report('warning', `${what} ${name} is not modelled (${u.count} rule${u.count === 1 ? '' : 's'}, first here); ${ASSUMED[what]}`, u.line)
  }
  return {ruleset, diagnostics}

  function declareChain(table: Table, line: string): void {
    const [decl, policy, counterText, ...extra] = line.slice(1).split(' ').filter((w) => w !== '')
    if (!decl || !policy || extra.length) {
      report('error', `malformed chain declaration (expected :CHAIN POLICY [packets:bytes])`)
      if (!decl) return
    }
    if (table.chains.has(decl)) {
      report('warning', `chain ${decl} declared twice; the second declaration is ignored`)
      return
    }
    const builtin = (BUILTIN_CHAINS[table.name] ?? []).includes(decl)
    const chain: Chain = {name: decl, builtin, rules: [], source: {file, line: lineNo}}
    if (policy === 'ACCEPT' || policy === 'DROP') {
      if (builtin) chain.policy = policy
      else report('error', `user chain ${decl} cannot have a policy (${policy})`)
    } else if (builtin) {
      // iptables-restore keeps the current policy on `-`: a fresh table's built-in chains accept.
      chain.policy = 'ACCEPT'
      if (policy !== '-') report('error', `bad policy ${policy} for built-in chain ${decl}; assuming ACCEPT`)
    } else if (policy !== '-' && policy !== undefined) report('error', `bad policy ${policy} for user chain ${decl}`)
    if (counterText !== undefined) {
      const counters = parseCounters(counterText)
      if (!counters) report('error', `malformed counters ${counterText}`)
      else if (builtin) chain.policyCounters = counters
    }
    table.chains.set(decl, chain)
  }

  function comment(line: string): void {
    if (line.startsWith('# Warning: iptables-legacy tables present')) {
      ruleset.notes.push('iptables-legacy tables present: this dump (nf_tables) does not show them')
      report('warning', 'iptables-legacy tables present, not in this dump: use iptables-legacy-save to see them')
      return
    }
    const gen = /^# Generated by (ip6?tables-save v[\d.]+)(?: \(([\w-]+)\))?/.exec(line)
    const note = gen && `generated by ${gen[1]}, backend ${gen[2] ?? 'legacy'}`
    if (note && !ruleset.notes.includes(note)) ruleset.notes.push(note)
  }
}
