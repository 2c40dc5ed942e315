/**
 * `-m sctp`: --sport/--dport ranges like tcp/udp (net/netfilter/xt_sctp.c); a non-first fragment never matches.
 * --chunk-types all|any|only CHUNK[:flags],… reads the packet's chunks, which the model does not hold: the test is
 * assumed to hold, and the result says so.
 */
import {PROTO} from '../model/packet.ts'
import {OptionError, type MatchKind, type OptionArg} from './types.ts'
import {explainChecks, optionCheck, runChecks, type Check} from './util/checks.ts'
import {optionTable} from './util/options.ts'
import {l4Header, portCheck} from './util/ports.ts'

const table = optionTable({'sport': 1, 'dport': 1, 'chunk-types': 2}, {'source-port': 'sport', 'destination-port': 'dport'})

/** Chunk names of libxt_sctp.c (sctp_chunk_names), with optional `:flags`. */
const CHUNKS = new Set(['DATA', 'INIT', 'INIT_ACK', 'SACK', 'HEARTBEAT', 'HEARTBEAT_ACK', 'ABORT', 'SHUTDOWN', 'SHUTDOWN_ACK',
  'ERROR', 'COOKIE_ECHO', 'COOKIE_ACK', 'ECN_ECNE', 'ECN_CWR', 'SHUTDOWN_COMPLETE', 'I_DATA', 'RE_CONFIG', 'PAD', 'ASCONF',
  'ASCONF_ACK', 'FORWARD_TSN', 'I_FORWARD_TSN', 'ALL', 'NONE'])

function chunkCheck(o: OptionArg): Check {
  const [mode, list] = o.values as [string, string]
  if (!['all', 'any', 'only'].includes(mode)) throw new OptionError(`${o.text}: the mode is all, any or only`)
  for (const c of list.split(',')) {
    if (!CHUNKS.has(c.split(':')[0]!.toUpperCase())) throw new OptionError(`unknown SCTP chunk ${JSON.stringify(c)}`)
  }
  const what = `chunk types ${mode} ${list}`
  return optionCheck(o, () => true, (_, fact) => `${what} ${fact ? 'assumed to hold' : 'assumed not to hold'} (SCTP chunks are not modelled)`,
    () => `the packet's SCTP chunks are assumed to satisfy ${what} (chunks are not modelled)`)
}

export const sctp: MatchKind<Check[]> = {
  name: 'sctp',
  options: table.names,
  parse(opts, pctx) {
    if (pctx.proto !== PROTO.sctp) throw new OptionError('sctp match needs -p sctp')
    const m = table.read(opts)
    const checks: Check[] = [l4Header(PROTO.sctp)]
    for (const field of ['sport', 'dport'] as const) {
      const o = m.get(field)
      if (o) checks.push(portCheck(o, field))
    }
    const chunks = m.get('chunk-types')
    if (chunks) checks.push(chunkCheck(chunks))
    return checks
  },
  eval: runChecks,
  explain: explainChecks,
}
