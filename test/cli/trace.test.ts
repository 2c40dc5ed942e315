/** The trace command as a user runs it: bundled samples, JSON Lines for --packets, errors without stack traces. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/run.js', ...args], {encoding: 'utf8'})
const dir = mkdtempSync(join(tmpdir(), 'nfstep-cli-'))

test('a bundled sample answers in JSON: the published Docker port is DNATed to the container', () => {
  const out = execFileSync(process.execPath, ['bin/run.js', 'trace', '--sample', 'docker-host', 'tcp 203.0.113.7:40000 > 192.0.2.10:8080 in eth0', '--json'], {encoding: 'utf8'})
  const j = JSON.parse(out)
  assert.equal(j.schema, 'nfstep.trace/1')
  assert.equal(j.outcomes[0].disposition, 'forward')
  assert.equal(j.outcomes[0].oif, 'docker0')
  assert.equal(`${j.outcomes[0].final.dst}:${j.outcomes[0].final.dport}`, '172.17.0.2:80')
})

test('--packets gives one JSON line per packet, in order, and a reply follows the first packet\'s connection', () => {
  const file = join(dir, 'packets.json')
  writeFileSync(file, JSON.stringify([
    {id: 'syn', proto: 'tcp', src: '203.0.113.7', sport: 40000, dst: '192.0.2.10', dport: 8080, in: 'eth0'},
    {id: 'synack', reply_of: 'syn'},
    {id: 'ssh', proto: 'tcp', src: '203.0.113.7', dst: '192.0.2.10', dport: 22, in: 'eth0'},
  ]))
  const r = run('trace', '--sample', 'docker-host', '--packets', file, '--json')
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(lines.map((l) => l.id), ['syn', 'synack', 'ssh'])
  const reply = lines[1].outcomes[0]
  assert.equal(lines[1].packet.src, '172.17.0.2')
  assert.equal(lines[1].packet.in, 'docker0')
  assert.equal(reply.final.src, '192.0.2.10')
  assert.equal(reply.final.sport, 8080)
  assert.equal(reply.final.ctstate, 'ESTABLISHED')
})

test('a bad packet is reported with its position and no stack trace', () => {
  const file = join(dir, 'bad.json')
  writeFileSync(file, JSON.stringify([{id: 'a', proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.300', dport: 80, in: 'eth0'}]))
  const r = run('trace', '--sample', 'docker-host', '--packets', file)
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /packet 1 \(id "a"\): dst: not an IP\s+address/)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
})

test('a corrupt dump loads what it can: file:line errors on stderr, and the trace still runs', () => {
  const file = join(dir, 'broken.txt')
  writeFileSync(file, '*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p tcp --dport 22 -j ACCEPT\n-A FORWARD -m tcp --dport "unterminated -j ACCEPT\n-A FORWARD -p udp -j ACCEPT\n')
  const r = run('trace', '--iptables', file, 'udp 10.0.0.1:5000 > 10.0.0.2:53 in eth0', '--json')
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /broken\.txt:4: /)
  assert.match(r.stderr, /truncated/)
  const j = JSON.parse(r.stdout)
  const accepted = j.outcomes[0].steps.find((s: {type: string; index?: number; matched?: boolean}) => s.type === 'rule' && s.index === 3)
  assert.equal(accepted.matched, true)
})
