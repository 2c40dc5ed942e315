import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {collectLive, loadSnapshotFromFiles, writeSnapshotDir} from '../../src/snapshot/live.ts'
import {loadSnapshotDir} from '../../src/snapshot/load.ts'
import {createRouter} from '../../src/snapshot/routing.ts'
import {parseAddr} from '../../src/net/addr.ts'
import {RTN} from '../../src/engine/state.ts'

const root = process.getuid?.() === 0
const ip = (...args: string[]) => execFileSync('ip', args, {stdio: ['ignore', 'pipe', 'pipe']})

test('collectLive in a network namespace returns every file with exit codes, and loads in memory', {skip: !root && 'needs root to create a netns'}, async (t) => {
  const ns = `nfstep-live-${process.pid}`
  ip('netns', 'add', ns)
  t.after(() => ip('netns', 'del', ns))
  ip('-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1')
  ip('-n', ns, 'addr', 'add', '10.9.9.9/24', 'dev', 'v0')
  ip('-n', ns, 'route', 'add', 'blackhole', '10.77.0.0/16', 'table', '42')
  ip('-n', ns, 'rule', 'add', 'fwmark', '0x7', 'lookup', '42', 'pref', '50')

  const {files, meta} = await collectLive({netns: ns})
  for (const f of ['ip-addr.json', 'ip-link.json', 'ip-route.json', 'ip6-route.json', 'ip-rule.json', 'ip6-rule.json', 'iptables-save.txt', 'sysctl.txt']) {
    assert.ok(files.has(f), `${f} collected`)
    assert.equal(meta.collected![f].exitCode, 0, `${f}: ${meta.collected![f].stderr}`)
  }
  assert.equal(meta.collected!['ip-addr.json'].command, `ip netns exec ${ns} ip -j addr show`)
  assert.ok(meta.kernel && meta.time)
  // A failed command leaves its file out and says why.
  for (const [name, c] of Object.entries(meta.collected!)) {
    if (c.exitCode !== 0 && name !== 'sysctl.txt') assert.ok(!files.has(name) && c.stderr, `${name} failed without its file and with a reason`)
  }

  const s = loadSnapshotFromFiles(files, `live:netns ${ns}`, meta)
  const r = createRouter(s)
  assert.equal(r.addrType(parseAddr('10.9.9.9')), RTN.LOCAL, 'address on a DOWN veth is local')
  assert.equal(r.lookup({family: 4, dst: parseAddr('10.77.1.1'), mark: 7, tos: 0}).type, 'blackhole')
  assert.equal(r.lookup({family: 4, dst: parseAddr('10.77.1.1'), mark: 0, tos: 0}).type, 'unreachable')
  assert.equal(s.iptables[4]?.family, 4)

  const dir = mkdtempSync(join(tmpdir(), 'nfstep-live-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  await writeSnapshotDir(dir, files, meta)
  const back = await loadSnapshotDir(dir)
  assert.deepEqual([...back.present].sort(), [...s.present].sort())
  assert.deepEqual(back.meta.collected, meta.collected)
})

test('collectLive in a namespace that does not exist records every failure and returns no files', {skip: !root && 'needs root'}, async () => {
  const {files, meta} = await collectLive({netns: `nfstep-absent-${process.pid}`})
  assert.equal(files.size, 0)
  for (const c of Object.values(meta.collected!)) {
    assert.notEqual(c.exitCode, 0)
    assert.match(c.stderr ?? '', /nfstep-absent|netns|No such file/)
  }
})

test('a netns name that is not a plain name is refused', async () => {
  await assert.rejects(collectLive({netns: '-x'}), /bad netns name/)
  await assert.rejects(collectLive({netns: 'a/b'}), /bad netns name/)
})
