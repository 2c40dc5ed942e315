#!/usr/bin/env node
// node:test on Node 20 takes no globs: collect test files here and pass them explicitly.
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {spawnSync} from 'node:child_process'

function collect(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...collect(p))
    else if (name.endsWith('.test.ts') || name.endsWith('.test.tsx')) out.push(p)
  }
  return out
}

const only = process.argv.slice(2)
const files = only.length ? only : collect('test')
// The whole suite also typechecks (strict, no unused code): tsx runs TypeScript without checking it.
if (!only.length) {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'], {stdio: 'inherit'})
  if (tsc.status !== 0) {
    console.error('typecheck failed')
    process.exit(tsc.status ?? 1)
  }
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {stdio: 'inherit'})
process.exit(r.status ?? 1)
