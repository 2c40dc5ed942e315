/**
 * Reading a snapshot: every file is optional; a file that cannot be parsed adds diagnostics and leaves its part
 * unknown, the others still load. Reserved files (nft, IPVS) are not read yet.
 */
import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {z} from 'zod'
import type {Family} from '../net/addr.ts'
import type {Diagnostic, Interface, Snapshot, SnapshotPart} from '../model/snapshot.ts'
import {parseIptablesSave} from '../parse/iptables-save.ts'
import {parseIpsetSave} from '../parse/ipset-save.ts'
import {mergeInterfaces, parseIpInterfaces, parseIpRoutes, parseIpRules, type Parsed} from '../parse/ip-json.ts'
import {parseConntrack} from '../parse/conntrack.ts'
import {parseSysctl} from '../parse/sysctl.ts'
import {META_FILE, SNAPSHOT_FILES} from './files.ts'

const Meta = z.looseObject({
  hostname: z.string().optional(),
  kernel: z.string().optional(),
  time: z.string().optional(),
  collected: z.record(z.string(), z.looseObject({command: z.string(), exitCode: z.number(), stderr: z.string().optional()})).optional(),
})

function parseMeta(text: string, diagnostics: Diagnostic[]): Snapshot['meta'] {
  try {
    const r = Meta.safeParse(JSON.parse(text))
    if (r.success) {
      const {hostname, kernel, time, collected} = r.data
      return {hostname, kernel, time, collected}
    }
    diagnostics.push({file: META_FILE, severity: 'warning', message: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})
  } catch (e) {
    diagnostics.push({file: META_FILE, severity: 'warning', message: `not JSON: ${(e as Error).message}`})
  }
  return {}
}

/** Dumps larger than this are parsed lazily (see parseIptablesSave's `lazy`). */
const LAZY_BYTES = 8_000_000

/** Builds a Snapshot from file name → content (a directory's files, or live collection in memory). */
/**
 * `paths` names where a file really came from (e.g. `--iptables rules.txt` is read as iptables-save.txt), so that
 * messages and rule sources point at the user's file.
 */
export function loadSnapshotFromFiles(files: ReadonlyMap<string, string>, source: string, meta?: Snapshot['meta'], paths?: ReadonlyMap<string, string>): Snapshot {
  const diagnostics: Diagnostic[] = []
  const present = new Set<SnapshotPart>()
  const metaText = files.get(META_FILE)
  const snap: Snapshot = {
    source,
    meta: meta ?? (metaText === undefined ? {} : parseMeta(metaText, diagnostics)),
    iptables: {},
    ipsets: new Map(),
    interfaces: [],
    routes: [],
    rules: [],
    conntrack: [],
    sysctl: new Map(),
    present,
    diagnostics,
  }

  /** Runs one parser; a parser that throws (a bug, or input it cannot handle) costs only its own part. */
  function read<T>(name: string, part: SnapshotPart, parse: (text: string) => {diagnostics: Diagnostic[]; ok?: boolean; result: T}): T | undefined {
    const text = files.get(name)
    if (text === undefined) return undefined
    try {
      const r = parse(text)
      diagnostics.push(...r.diagnostics)
      if (r.ok === false) return undefined
      present.add(part)
      return r.result
    } catch (e) {
      diagnostics.push({file: name, severity: 'error', message: `could not be read: ${(e as Error).message}`})
      return undefined
    }
  }
  const json = <T>(p: Parsed<T>) => ({diagnostics: p.diagnostics, ok: p.ok, result: p.value})

  for (const [name, family, part] of [['iptables-save.txt', 4, 'iptables4'], ['ip6tables-save.txt', 6, 'iptables6']] as const) {
    const ruleset = read(name, part, (t) => {
      // A kube-proxy node's dump runs to 700k lines: parse each rule's options when a packet first reaches it.
      const lazy = t.length > LAZY_BYTES
      const file = paths?.get(name) ?? name
      const r = parseIptablesSave(t, file, family as Family, {lazy})
      if (lazy) r.diagnostics.push({file, severity: 'info', message: `large dump (${(t.length / 1e6).toFixed(0)} MB): rule options are parsed when a packet first reaches the rule, so problems in rules no packet reached are not reported`})
      return {diagnostics: r.diagnostics, result: r.ruleset}
    })
    if (ruleset) snap.iptables[family] = ruleset
  }
  snap.ipsets = read('ipset-save.txt', 'ipset', (t) => {
    const r = parseIpsetSave(t, 'ipset-save.txt')
    return {diagnostics: r.diagnostics, result: r.sets}
  }) ?? snap.ipsets

  const fromAddr = read<Interface[]>('ip-addr.json', 'addr', (t) => json(parseIpInterfaces(t, 'ip-addr.json')))
  const fromLink = read<Interface[]>('ip-link.json', 'link', (t) => json(parseIpInterfaces(t, 'ip-link.json')))
  snap.interfaces = mergeInterfaces(fromAddr, fromLink)

  snap.routes.push(...read('ip-route.json', 'route4', (t) => json(parseIpRoutes(t, 'ip-route.json', 4))) ?? [])
  const v6 = read('ip6-route.json', 'route6', (t) => json(parseIpRoutes(t, 'ip6-route.json', 6)))
  if (v6) snap.routes.push(...v6)
  else if (files.has('ip-route.json')) {
    // iproute2 >= 5.x dumps IPv6 routes too for `ip route show table all`: use them when ip6-route.json is absent.
    const fallback = parseIpRoutes(files.get('ip-route.json')!, 'ip-route.json', 6).value
    if (fallback.length) {
      snap.routes.push(...fallback)
      present.add('route6')
      diagnostics.push({file: 'ip-route.json', severity: 'info', message: `ip6-route.json is absent: the ${fallback.length} IPv6 routes of ip-route.json are used`})
    }
  }
  for (const [name, family, part] of [['ip-rule.json', 4, 'rule4'], ['ip6-rule.json', 6, 'rule6']] as const) {
    snap.rules.push(...read(name, part, (t) => json(parseIpRules(t, name, family))) ?? [])
  }
  snap.conntrack = read('conntrack.txt', 'conntrack', (t) => {
    const r = parseConntrack(t, 'conntrack.txt')
    return {diagnostics: r.diagnostics, result: r.entries}
  }) ?? []
  snap.sysctl = read('sysctl.txt', 'sysctl', (t) => {
    const r = parseSysctl(t, 'sysctl.txt')
    return {diagnostics: r.diagnostics, result: r.values}
  }) ?? snap.sysctl

  // iptables-nft prints the legacy-tables warning on stderr, which the collector keeps in meta.json.
  for (const [name, family] of [['iptables-save.txt', 4], ['ip6tables-save.txt', 6]] as const) {
    const stderr = snap.meta.collected?.[name]?.stderr ?? ''
    const rs = snap.iptables[family]
    if (rs && stderr.includes('legacy tables present') && !rs.notes.some((n) => n.includes('legacy'))) {
      rs.notes.push('iptables-legacy tables present: this dump (nf_tables) does not show them')
      diagnostics.push({file: name, severity: 'warning', message: 'iptables-legacy tables present (collector stderr), not in this dump: their rules also run, and nfstep cannot see them; collect iptables-legacy-save too'})
    }
  }

  // Say why a part is unknown when the collector recorded a failure for its file.
  for (const f of SNAPSHOT_FILES) {
    const c = snap.meta.collected?.[f.name]
    if (!f.reserved && !files.has(f.name) && c && c.exitCode !== 0) {
      diagnostics.push({file: f.name, severity: 'info', message: `absent: \`${c.command}\` exited ${c.exitCode}${c.stderr ? `: ${c.stderr.trim().split('\n')[0]}` : ''}`})
    }
  }
  return snap
}

/** Reads every known snapshot file present in `dir`. */
export async function loadSnapshotDir(dir: string): Promise<Snapshot> {
  const names = new Set(await readdir(dir))
  const files = new Map<string, string>()
  for (const name of [...SNAPSHOT_FILES.filter((f) => !f.reserved).map((f) => f.name), META_FILE]) {
    if (names.has(name)) files.set(name, await readFile(join(dir, name), 'utf8'))
  }
  return loadSnapshotFromFiles(files, dir)
}
