/**
 * `-m policy --dir in|out --pol none|ipsec [--strict] [element options …]` (net/netfilter/xt_policy.c): whether the
 * packet was decapsulated by (in) / will be encapsulated by (out) an IPsec transform. With no IPsec involved,
 * `--pol none` matches and `--pol ipsec` does not. IPsec state is not in a snapshot: assume.ipsec (default false);
 * when true, the element conditions (reqid, spi, proto, mode, tunnel addresses) are assumed to hold.
 */
import {OptionError, type MatchKind} from './types.ts'

export interface PolicySpec {
  dir: 'in' | 'out'
  pol: 'none' | 'ipsec'
  /** The element options as written (`--reqid 1 --proto esp …`), checked for form only. */
  elements: string
}

const ELEMENT_OPTS = new Set(['reqid', 'spi', 'proto', 'mode', 'tunnel-src', 'tunnel-dst', 'next', 'strict'])

export const policy: MatchKind<PolicySpec> = {
  name: 'policy',
  options: ['dir', 'pol', ...ELEMENT_OPTS],
  parse(opts) {
    let dir: string | undefined
    let pol: string | undefined
    const elements: string[] = []
    for (const o of opts) {
      if (o.name === 'dir' || o.name === 'pol') {
        if (o.negated) throw new OptionError(`${o.text}: cannot be negated`)
        if (o.values.length !== 1) throw new OptionError(`${o.text}: expects 1 value`)
        if (o.name === 'dir') dir = o.values[0]
        else pol = o.values[0]
      } else if (ELEMENT_OPTS.has(o.name)) elements.push(o.text)
      else throw new OptionError(`unknown option ${o.text}`)
    }
    if (dir !== 'in' && dir !== 'out') throw new OptionError('--dir in|out is required')
    if (pol !== 'none' && pol !== 'ipsec') throw new OptionError('--pol none|ipsec is required')
    if (pol === 'none' && elements.length) throw new OptionError('policy elements are only valid with --pol ipsec')
    return {dir, pol, elements: elements.join(' ')}
  },
  eval(spec, ctx) {
    const ipsec = ctx.pkt.assume.ipsec
    const used = ipsec ?? false
    const ok = spec.pol === 'none' ? !used : used
    const what = spec.dir === 'in' ? 'was decapsulated by IPsec' : 'will be encapsulated by IPsec'
    const els = used && spec.pol === 'ipsec' && spec.elements ? `; the policy elements (${spec.elements}) are assumed to match` : ''
    const assumed = ipsec === undefined
      ? `IPsec state is not in a snapshot: assumed the packet ${what.replace('was', 'was not').replace('will be', 'will not be')} (set assume.ipsec=true to change)`
      : `assume.ipsec says the packet ${used ? what : what.replace('was', 'was not').replace('will be', 'will not be')}${els}`
    return {ok, assumed, detail: `--pol ${spec.pol} --dir ${spec.dir}: ${ok ? 'matches' : 'does not match'} (${assumed})`}
  },
  explain: (_spec, _ctx, _ok, detail) => detail ?? 'policy',
}
