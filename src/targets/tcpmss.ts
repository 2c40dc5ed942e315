/**
 * `-j TCPMSS --set-mss N | --clamp-mss-to-pmtu` (-p tcp; clamp only at FORWARD/OUTPUT/POSTROUTING): rewrites the
 * MSS option of TCP SYNs (net/netfilter/xt_TCPMSS.c tcpmss_mangle_packet): the MSS is only ever lowered; a segment
 * without MSS option and without data gets one of min(N, 536) (IPv6: 1220); clamping uses
 * min(route MTU, reverse route MTU) − 40 (IPv6 − 60). The packet model holds no TCP options and routes carry no
 * MTU, so the resulting value is stated, not computed.
 */
import {OptionError} from '../matches/types.ts'
import {PROTO} from '../model/packet.ts'
import type {TargetKind} from './types.ts'
import {parseUint, placementNotes, readOptions} from './util.ts'

export interface TcpmssSpec {
  /** undefined: --clamp-mss-to-pmtu. */
  mss?: number
}

export const tcpmssTarget: TargetKind<TcpmssSpec> = {
  name: 'TCPMSS',
  options: ['set-mss', 'clamp-mss-to-pmtu'],
  parse(opts, ctx) {
    const o = readOptions('TCPMSS', opts, {'set-mss': 1, 'clamp-mss-to-pmtu': 0})
    if (o.has('set-mss') === o.has('clamp-mss-to-pmtu')) throw new OptionError('TCPMSS needs exactly one of --set-mss, --clamp-mss-to-pmtu')
    if (ctx.proto !== PROTO.tcp) throw new OptionError('TCPMSS needs -p tcp')
    const v = o.get('set-mss')?.[0]
    return v === undefined ? {} : {mss: parseUint(v, 0xffff, 'MSS')}
  },
  apply(spec, ctx) {
    const effects = spec.mss === undefined
      ? placementNotes(ctx, 'TCPMSS --clamp-mss-to-pmtu', {hooks: ['FORWARD', 'OUTPUT', 'POSTROUTING']}, 'xt_TCPMSS.c')
      : []
    const dflt = ctx.family === 4 ? 536 : 1220
    const text = spec.mss === undefined
      ? `TCPMSS: the MSS option is lowered to the path MTU − ${ctx.family === 4 ? 40 : 60} (route MTU unknown here, so the value is unknown); never raised`
      : `TCPMSS: the MSS option is lowered to ${spec.mss} if it is larger (never raised); without an MSS option one of ${Math.min(spec.mss, dflt)} is added`
    effects.push({kind: 'header', field: 'mss', ...(spec.mss !== undefined ? {after: spec.mss} : {}), text})
    return {verdict: 'CONTINUE', effects}
  },
}
