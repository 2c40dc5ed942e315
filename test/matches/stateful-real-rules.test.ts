import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {parseIptablesSave} from '../../src/parse/iptables-save.ts'

// iptables-save (1.8.9, nf_tables) output of rules using every stateful/special match, made in a throwaway netns.
const FILE = 'test/fixtures/iptables/stateful-matches-1.8.9.txt'

test('real iptables-save output of the stateful/special matches parses into their modules', () => {
  const {ruleset, diagnostics} = parseIptablesSave(readFileSync(FILE, 'utf8'), FILE, 4)
  assert.deepEqual(diagnostics, [])
  const names = new Set<string>()
  for (const t of ruleset.tables.values()) {
    for (const c of t.chains.values()) {
      for (const r of c.rules) {
        for (const m of r.matches) {
          assert.ok(!m.unmodelled, `${r.text}: ${m.kind.name} unmodelled`)
          names.add(m.kind.name)
        }
        assert.ok(!r.target?.unmodelled, r.text)
      }
    }
  }
  for (const n of ['set', 'statistic', 'physdev', 'owner', 'recent', 'limit', 'hashlimit', 'connlimit', 'quota', 'socket', 'string', 'u32', 'rpfilter', 'policy', 'devgroup', 'cgroup', 'helper']) {
    assert.ok(names.has(n), n)
  }
  const stat = ruleset.tables.get('filter')!.chains.get('INPUT')!.rules.find((r) => r.text.includes('--probability'))!
  assert.equal((stat.matches.at(-1)!.spec as {threshold: number}).threshold, 715827883)
})
