/**
 * `npm run bench`: the speed targets of the foundation, measured against a named baseline in the same run.
 *   baseline: `iptables-restore --test` on the same dump (in a throwaway network namespace; needs root)
 *   load:     nfstep parse + index of the dump        target ≤ 0.5 × baseline
 *   memory:   peak RSS of the nfstep process         target ≤ 1 GiB
 *   trace:    per-packet time, ClusterIP / NodePort   target ≤ 2 ms
 * The dump is generated (scripts/gen-kube-dump.ts): 30k services / 150k endpoints by default, as in Kubernetes
 * issue 96018. Flags: --services N --endpoints N --packets N.
 */
import {spawnSync, execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : def
}
const services = arg('services', 30000)
const endpoints = arg('endpoints', 150000)
const packets = arg('packets', 2000)

const dir = mkdtempSync(join(tmpdir(), 'nfstep-bench-'))
const dump = join(dir, 'iptables-save.txt')
try {
  console.log(`generating a kube-proxy dump: ${services} services, ${endpoints} endpoints`)
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen-kube-dump.ts', '--services', String(services), '--endpoints', String(endpoints), '--out', dump], {stdio: 'inherit'})
  const lines = readFileSync(dump, 'utf8').split('\n').length
  console.log(`dump: ${lines} lines, ${(statSync(dump).size / 1e6).toFixed(1)} MB`)

  let baselineMs: number | undefined
  if (process.getuid?.() === 0 && existsSync('/usr/sbin/iptables-restore')) {
    const ns = `nfstep-bench-${process.pid}`
    execFileSync('ip', ['netns', 'add', ns])
    try {
      const t0 = performance.now()
      const r = spawnSync('ip', ['netns', 'exec', ns, 'iptables-restore', '--test'], {input: readFileSync(dump), stdio: ['pipe', 'ignore', 'pipe']})
      baselineMs = performance.now() - t0
      if (r.status !== 0) console.log(`baseline: iptables-restore --test failed: ${r.stderr.toString().slice(0, 500)}`)
    } finally {
      execFileSync('ip', ['netns', 'del', ns])
    }
  } else console.log('### baseline skipped: iptables-restore --test needs root and iptables ###')

  // nfstep runs in its own process so its peak RSS is its own.
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench-engine.ts', dump, String(packets)], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
  if (r.status !== 0) throw new Error(`bench-engine failed (${r.status})`)
  const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {loadMs: number; maxRssMiB: number; perPacketMs: Record<string, number>; firstMs: Record<string, number>; paths: Record<string, number>; rules: number}
  console.log('')
  console.log(`baseline  iptables-restore --test        ${baselineMs === undefined ? 'n/a' : `${(baselineMs / 1000).toFixed(2)} s`}`)
  console.log(`nfstep    load + index (${m.rules} rules)  ${(m.loadMs / 1000).toFixed(2)} s${baselineMs ? `   ratio ${(m.loadMs / baselineMs).toFixed(3)} × baseline (target ≤ 0.5)` : ''}`)
  console.log(`nfstep    peak RSS                       ${m.maxRssMiB.toFixed(0)} MiB (target ≤ 1024)`)
  for (const [name, ms] of Object.entries(m.perPacketMs)) {
    console.log(`nfstep    trace ${name} (${m.paths[name]} paths, all DNATed): ${ms.toFixed(3)} ms/packet (target ≤ 2); first packet ${m.firstMs[name].toFixed(1)} ms`)
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}
