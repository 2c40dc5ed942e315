import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {loadSnapshotDir, loadSnapshotFromFiles} from '../../src/snapshot/load.ts'
import {SNAPSHOT_FILES} from '../../src/snapshot/files.ts'
import {createRouter} from '../../src/snapshot/routing.ts'
import {formatDiagnostic} from '../../src/model/snapshot.ts'
import {parseAddr} from '../../src/net/addr.ts'

const FIXTURE = fileURLToPath(new URL('../fixtures/snapshot/netns-basic/', import.meta.url))

function scratch(t: {after: (fn: () => void) => void}): string {
  const dir = mkdtempSync(join(tmpdir(), 'nfstep-load-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

test('the real fixture loads every part without errors', async () => {
  const s = await loadSnapshotDir(FIXTURE)
  assert.deepEqual([...s.present].sort(), ['addr', 'conntrack', 'ipset', 'iptables4', 'iptables6', 'link', 'route4', 'route6', 'rule4', 'rule6', 'sysctl'])
  assert.deepEqual(s.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic), [])
  assert.deepEqual([...s.iptables[4]!.tables.keys()].sort(), ['mangle', 'nat', 'raw'])
  assert.deepEqual([...s.iptables[6]!.tables.keys()], ['filter'])
  assert.equal(s.conntrack.length, 10)
  assert.equal(s.interfaces.find((i) => i.name === 'kube-ipvs0')?.kind, 'bridge')
  assert.equal(s.meta.hostname, 'nfstep-fixture')
  assert.equal(s.source, FIXTURE)
  assert.equal(createRouter(s).lookup({family: 4, dst: parseAddr('8.8.8.8'), mark: 1, tos: 0}).table, '100')
})

test('a broken file costs only its part; a missing file is an absent part, explained from meta.json', async (t) => {
  const dir = scratch(t)
  for (const f of ['ip-addr.json', 'ip-rule.json', 'sysctl.txt']) copyFileSync(join(FIXTURE, f), join(dir, f))
  writeFileSync(join(dir, 'ip-route.json'), '[{"dst": "10.0.0.0/8"')
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({hostname: 'h', collected: {'conntrack.txt': {command: 'conntrack -L -o extended', exitCode: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted\n'}}}))
  const s = await loadSnapshotDir(dir)
  assert.deepEqual([...s.present].sort(), ['addr', 'rule4', 'sysctl'])
  assert.equal(s.rules.length, 10)
  const msgs = s.diagnostics.map(formatDiagnostic)
  assert.ok(msgs.some((m) => m.startsWith('ip-route.json: not JSON')), msgs.join('\n'))
  assert.ok(msgs.includes('conntrack.txt: absent: `conntrack -L -o extended` exited 1: conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted'), msgs.join('\n'))
  assert.equal(createRouter(s).lookup({family: 4, dst: parseAddr('8.8.8.8'), mark: 0, tos: 0}).type, 'none')
})

test('an empty file is a known-empty part, not an unknown one', () => {
  const s = loadSnapshotFromFiles(new Map([['conntrack.txt', ''], ['ip-rule.json', '[]']]), 'mem')
  assert.ok(s.present.has('conntrack'))
  assert.equal(s.conntrack.length, 0)
  assert.ok(!s.present.has('route4'))
})

test('without ip6-route.json, the IPv6 routes iproute2 put into ip-route.json are used', () => {
  const s = loadSnapshotFromFiles(new Map([['ip-route.json', readFileSync(join(FIXTURE, 'ip-route.json'), 'utf8')]]), 'mem')
  assert.ok(s.present.has('route6'))
  assert.equal(s.routes.filter((r) => r.family === 6).length, 18)
  assert.equal(s.routes.filter((r) => r.family === 4).length, 23)
})

test('meta passed in wins over meta.json; reserved files are not read', () => {
  const s = loadSnapshotFromFiles(new Map([['meta.json', '{"hostname": "file"}'], ['nft-ruleset.json', '{"nftables": []}']]), 'live', {hostname: 'given'})
  assert.equal(s.meta.hostname, 'given')
  assert.ok(!s.present.has('nft'))
  assert.ok(SNAPSHOT_FILES.find((f) => f.name === 'nft-ruleset.json')!.reserved)
})
