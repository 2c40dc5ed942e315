/**
 * The READMEs' examples are real: every `--sample` command shown in README.md and traces/<sample>/README.md is run
 * again, and each output line it shows must still be printed (`…` lines and a trailing ` […]` mark trims).
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = join(REPO, 'bin/run.js')

interface Example {
  doc: string
  command: string
  shown: string[]
  files: Record<string, string>
}

/** `$ cmd` followed by its output lines, from a fenced console block or a 4-space indented block. */
function examples(doc: string, text: string, indent: string): Example[] {
  const out: Example[] = []
  const files: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(`^${indent}\\$ (.*)$`).exec(lines[i])
    if (!m) continue
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const l = lines[j]
      if (l.startsWith(`${indent}$ `) || l.startsWith('```') || (indent && l.trim() !== '' && !l.startsWith(indent))) break
      if (indent && l.trim() === '' && !(lines[j + 1] ?? '').startsWith(indent)) break
      body.push(l.slice(indent.length))
    }
    const cat = /^cat (\S+)$/.exec(m[1])
    if (cat) files[cat[1]] = body.join('\n') + '\n'
    else if (/--sample /.test(m[1]) && !m[1].includes('$')) out.push({doc, command: m[1], shown: body, files: {...files}})
    i = j - 1
  }
  return out
}

function allExamples(): Example[] {
  const list = examples('README.md', readFileSync(join(REPO, 'README.md'), 'utf8'), '')
  for (const name of readdirSync(join(REPO, 'traces'))) {
    const readme = join(REPO, 'traces', name, 'README.md')
    if (existsSync(readme)) list.push(...examples(`traces/${name}/README.md`, readFileSync(readme, 'utf8'), '    '))
  }
  return list
}

const cases = allExamples()

test('the READMEs show sample commands to check', () => {
  assert.ok(cases.length >= 20, `only ${cases.length} examples found`)
})

for (const ex of cases) {
  test(`${ex.doc}: ${ex.command.slice(0, 100)}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfstep-doc-'))
    for (const [name, text] of Object.entries(ex.files)) writeFileSync(join(dir, name), text)
    const cmd = ex.command.replace(/^(\.\/bin\/run\.js|nfstep) /, `${BIN} `).replace(/\| *(\.\/bin\/run\.js|nfstep) /g, `| ${BIN} `)
    let real: string[]
    try {
      real = execFileSync('sh', ['-c', cmd], {cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).split('\n')
    } catch (e) {
      real = String((e as {stdout?: string}).stdout ?? '').split('\n')
    }
    const missing = ex.shown.filter((l) => l.trim() !== '' && l.trim() !== '…' && !real.some((r) => r === l || (l.endsWith(' […]') && r.startsWith(l.slice(0, -4)))))
    assert.deepEqual(missing, [], `${ex.doc} shows lines that \`${ex.command}\` no longer prints`)
  })
}
