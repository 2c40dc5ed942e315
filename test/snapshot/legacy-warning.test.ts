import {test} from 'node:test'
import assert from 'node:assert/strict'
import {loadSnapshotFromFiles} from '../../src/snapshot/load.ts'

test('the legacy-tables warning iptables-nft prints on stderr reaches the diagnostics through meta.json', () => {
  const meta = {collected: {'iptables-save.txt': {command: 'iptables-save -c', exitCode: 0, stderr: '# Warning: iptables-legacy tables present, use iptables-legacy-save to see them'}}}
  const s = loadSnapshotFromFiles(new Map([['iptables-save.txt', '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n']]), 'test', meta)
  assert.ok(s.diagnostics.some((d) => d.severity === 'warning' && /legacy tables present/.test(d.message)))
  assert.ok(s.iptables[4]!.notes.some((n) => /legacy/.test(n)))
  const clean = loadSnapshotFromFiles(new Map([['iptables-save.txt', '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n']]), 'test', {collected: {}})
  assert.ok(!clean.diagnostics.some((d) => /legacy/.test(d.message)))
})
