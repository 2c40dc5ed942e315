import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {parseIptablesSave} from '../../src/parse/iptables-save.ts'

// Every target line iptables 1.8.9 saved (test/fixtures/targets, from *-restore-input.txt in a netns) must be read by
// its module: a saved option form a module does not know would otherwise turn the target into an unmodelled one.
for (const [file, family] of [['iptables-save.txt', 4], ['ip6tables-save.txt', 6]] as const) {
  test(`every target in the saved ${file} fixture parses without diagnostics`, () => {
    const text = readFileSync(new URL(`../fixtures/targets/${file}`, import.meta.url), 'utf8')
    const {ruleset, diagnostics} = parseIptablesSave(text, file, family)
    assert.deepEqual(diagnostics, [])
    let targets = 0
    for (const t of ruleset.tables.values()) {
      for (const c of t.chains.values()) {
        for (const r of c.rules) {
          assert.ok(r.target && !r.target.unmodelled, r.text)
          targets++
        }
      }
    }
    assert.equal(targets, family === 4 ? 96 : 27)
  })
}
