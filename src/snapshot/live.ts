/**
 * Live collection: runs the fixed list of read-only commands of files.ts (never through a shell), optionally inside
 * `ip netns exec NAME`. A command that fails (no root, tool not installed) is recorded in meta.collected with its
 * exit code and stderr, and its file is left out, so that part reads as unknown rather than empty.
 */
import {execFile} from 'node:child_process'
import {mkdir, writeFile} from 'node:fs/promises'
import {hostname, release} from 'node:os'
import {join} from 'node:path'
import type {Snapshot} from '../model/snapshot.ts'
import {META_FILE, SNAPSHOT_FILES, type SnapshotFile} from './files.ts'

export {loadSnapshotFromFiles} from './load.ts'

type Collected = NonNullable<Snapshot['meta']['collected']>[string]

export interface LiveSnapshot {
  files: Map<string, string>
  meta: Snapshot['meta']
}

/** stderr kept per command: enough for the reason, bounded for chatty tools. */
const STDERR_MAX = 4000

function run(argv: readonly string[]): Promise<{stdout: string; result: Collected}> {
  return new Promise((resolve) => {
    // 1 GiB: iptables-save of a large Kubernetes node runs to hundreds of MB.
    execFile(argv[0], argv.slice(1), {encoding: 'utf8', maxBuffer: 1 << 30, timeout: 120_000}, (err, stdout, stderr) => {
      const code = (err as NodeJS.ErrnoException & {code?: number | string} | null)?.code
      const exitCode = !err ? 0 : typeof code === 'number' ? code : code === 'ENOENT' ? 127 : 1
      const why = err && typeof code !== 'number' ? `${err.message}\n` : ''
      const text = (why + (stderr ?? '')).trim().slice(0, STDERR_MAX)
      resolve({stdout: stdout ?? '', result: {command: argv.join(' '), exitCode, ...(text ? {stderr: text} : {})}})
    })
  })
}

function argvFor(f: SnapshotFile, netns?: string): readonly string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...f.command] : f.command
}

/** Runs every snapshot command (reserved ones too, for later readers) and returns the outputs in memory. */
export async function collectLive(opts: {netns?: string} = {}): Promise<LiveSnapshot> {
  if (opts.netns !== undefined && !/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/.test(opts.netns)) throw new Error(`bad netns name ${JSON.stringify(opts.netns)}`)
  const files = new Map<string, string>()
  const collected: Record<string, Collected> = {}
  const results = await Promise.all(SNAPSHOT_FILES.map(async (f) => ({f, ...(await run(argvFor(f, opts.netns)))})))
  for (const {f, stdout, result} of results) {
    collected[f.name] = result
    if (result.exitCode === 0 || (f.partialOk && stdout.length > 0)) files.set(f.name, stdout)
  }
  return {files, meta: {hostname: hostname(), kernel: release(), time: new Date().toISOString(), collected}}
}

/** Writes a collection as a snapshot directory that loadSnapshotDir reads back. */
export async function writeSnapshotDir(dir: string, files: ReadonlyMap<string, string>, meta: Snapshot['meta']): Promise<void> {
  await mkdir(dir, {recursive: true})
  for (const [name, text] of files) await writeFile(join(dir, name), text)
  await writeFile(join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n')
}
