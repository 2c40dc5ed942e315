/**
 * Kernel-differential test: the kernel is the judge. For each seed, a random ruleset is loaded in a throw-away node
 * namespace, packets are sent through it, and the kernel's trace is compared with the engine's trace of the same
 * packet against a snapshot collected live from that namespace.
 *
 *   sudo node scripts/test.mjs test/kernel/differential.test.ts
 *   NFSTEP_KERNEL_SEEDS=100 NFSTEP_KERNEL_PACKETS=20   more cases (default 30 seeds × 10 packets)
 *   NFSTEP_KERNEL_SEED=17,42                           just these seeds
 *   NFSTEP_KERNEL_SEED_BASE=1000                       first seed of the range
 *   KERNEL_ONLY=1                                      print the kernel's results, no engine
 *
 * Seeds in regressions.json run first. Needs root and the tools in netns.ts REQUIRED_TOOLS; without them the test is
 * skipped loudly, except in CI (CI=true) as root, where a missing tool is a failure.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import type {KernelResult} from './oracle.ts'
import {engineSession, withKernel} from './suite.ts'
import {describePacket, generateCase, toPacketSpec, type GenCase, type GenPacket} from './generator.ts'
import {diffTraces, engineOutcome, formatTrace, fromEngine, type KernelVerdictTrace} from './verdict-trace.ts'

const env = process.env
const SEEDS = Number(env.NFSTEP_KERNEL_SEEDS ?? 30)
const PACKETS = Number(env.NFSTEP_KERNEL_PACKETS ?? 10)
const BASE = Number(env.NFSTEP_KERNEL_SEED_BASE ?? 1)
const KERNEL_ONLY = env.KERNEL_ONLY === '1'

interface Regression {
  seed: number
  packets?: number
  note: string
}

function seeds(): {seed: number; packets: number; note?: string}[] {
  if (env.NFSTEP_KERNEL_SEED) return env.NFSTEP_KERNEL_SEED.split(',').map((s) => ({seed: Number(s), packets: PACKETS}))
  const regressions = JSON.parse(readFileSync(new URL('./regressions.json', import.meta.url), 'utf8')) as Regression[]
  const out: {seed: number; packets: number; note?: string}[] = regressions.map((r) => ({seed: r.seed, packets: r.packets ?? PACKETS, note: r.note}))
  for (let s = BASE; s < BASE + SEEDS; s++) if (!out.some((r) => r.seed === s)) out.push({seed: s, packets: PACKETS})
  return out
}

/** Everything needed to replay one packet by hand. */
function repro(c: GenCase, p: GenPacket, k: KernelResult, e: KernelVerdictTrace | undefined, diffs: string[]): string {
  return [
    `seed ${c.seed}, packet ${describePacket(p)}`,
    ...diffs.map((d) => `  ${d}`),
    `re-run: NFSTEP_KERNEL_SEED=${c.seed} node scripts/test.mjs test/kernel/differential.test.ts`,
    c.ipsets && `--- ipset restore ---\n${c.ipsets.trimEnd()}`,
    `--- ${c.family === 4 ? 'iptables' : 'ip6tables'}-restore ---\n${c.iptables.trimEnd()}`,
    c.ipRules.length && `--- ip -${c.family} rule add ---\n${c.ipRules.map((r) => r.join(' ')).join('\n')}`,
    `--- packet (generator) ---\n${JSON.stringify(p)}`,
    `--- kernel${k.vanished ? ' (no final event: the packet vanished without a netfilter verdict)' : ''} ---\n${formatTrace(k)}`,
    `--- kernel raw trace ---\n${k.raw.join('\n')}`,
    e && `--- engine ---\n${formatTrace(e)}`,
  ].filter(Boolean).join('\n')
}

test('the engine agrees with the kernel on generated rulesets and packets', {timeout: 30 * 60_000}, async (t) => {
  const t0 = performance.now()
  let packets = 0
  let sendMs = 0
  let vanished = 0
  await withKernel(t, {}, async (topo, oracle) => {
    const setupMs = performance.now() - t0
    for (const {seed, packets: count, note} of seeds()) {
      await t.test(`seed ${seed}${note ? ` (regression: ${note})` : ''}`, async () => {
        const c = generateCase(seed, count)
        await oracle.load(c)
        const session = KERNEL_ONLY ? undefined : await engineSession(topo.ns.node)
        const failures: string[] = []
        for (const p of c.packets) {
          const s0 = performance.now()
          const k = await oracle.send(p)
          sendMs += performance.now() - s0
          packets++
          if (k.vanished) vanished++
          if (!session) {
            console.log(`${describePacket(p)}\n${formatTrace(k)}`)
            continue
          }
          let e: KernelVerdictTrace | undefined
          let diffs: string[]
          try {
            e = fromEngine(p.id, engineOutcome(session.trace(toPacketSpec(p, k.length))))
            diffs = diffTraces(k, e)
          } catch (err) {
            diffs = [`engine threw: ${(err as Error).stack ?? err}`]
          }
          if (diffs.length) failures.push(repro(c, p, k, e, diffs))
        }
        // One seed's failures in one message, each with the full ruleset and packet to paste.
        assert.equal(failures.length, 0, `\n${failures.join('\n\n')}\n`)
      })
    }
    console.log(`kernel-differential: topology ${setupMs.toFixed(0)} ms, ${packets} packets, ${(sendMs / Math.max(packets, 1)).toFixed(1)} ms/packet (kernel side), ${vanished} vanished without a verdict, total ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  })
})
