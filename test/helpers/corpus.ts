/** Where the shared material is: `../shared` beside the checkout (as on developer machines and in CI). */
import {dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export const KUBE_CORPUS_DIR = process.env.NFSTEP_KUBE_CORPUS ?? resolve(REPO, '../shared/corpus/kube-proxy')
