#!/usr/bin/env node
// nfstep ships TypeScript sources and runs them through tsx's loader, so there is no build step to forget.
import {register} from 'tsx/esm/api'
register()
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
