/**
 * `-m socket [--transparent] [--nowildcard] [--restore-skmark]` (net/netfilter/xt_socket.c): a local socket owns
 * the packet's tuple (established, or listening unless --nowildcard; with --transparent only IP_TRANSPARENT
 * sockets). Sockets are not in a snapshot: assume.socket (default: no socket).
 */
import type {MatchKind} from './types.ts'
import {noNegation, optionTable} from './util/options.ts'

export interface SocketSpec {
  flags: string[]
}

const table = optionTable({transparent: 0, nowildcard: 0, 'restore-skmark': 0})

function assumption(spec: SocketSpec, given: boolean | undefined): string {
  const kind = [spec.flags.includes('--transparent') ? 'IP_TRANSPARENT' : '', spec.flags.includes('--nowildcard') ? 'non-listening' : ''].filter(Boolean).join(' ')
  const what = `matching local ${kind ? `${kind} ` : ''}socket`
  return given === undefined ? `no socket state in a snapshot: assumed there is no ${what} (set assume.socket=true to change)` : `assume.socket says there ${given ? 'is a' : 'is no'} ${what}`
}

export const socket: MatchKind<SocketSpec> = {
  name: 'socket',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    for (const x of o.values()) noNegation(x)
    return {flags: [...o.values()].map((x) => x.text)}
  },
  eval(spec, ctx) {
    const given = ctx.pkt.assume.socket
    return {ok: given ?? false, assumed: assumption(spec, given)}
  },
  explain(spec, ctx, ok) {
    const restore = ok && spec.flags.includes('--restore-skmark') ? '; --restore-skmark would copy the socket mark to the packet (not modelled)' : ''
    return `${assumption(spec, ctx.pkt.assume.socket)}${restore}`
  },
}
