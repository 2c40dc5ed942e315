/**
 * `-j NFLOG [--nflog-group N] [--nflog-prefix P] [--nflog-size S] [--nflog-threshold T]`: sends a copy of the packet
 * to nfnetlink_log group N (ulogd, `tcpdump -i nflog:N`); the packet continues (net/netfilter/xt_NFLOG.c).
 * `--nflog-range` is the old, never-working form of --nflog-size (iptables extensions/libxt_NFLOG.c).
 */
import type {TargetKind} from './types.ts'
import {parseUint, readOptions} from './util.ts'

export interface NflogSpec {
  group: number
  prefix: string
  /** Bytes copied; undefined: the whole packet. */
  size?: number
  threshold?: number
}

export const nflogTarget: TargetKind<NflogSpec> = {
  name: 'NFLOG',
  options: ['nflog-group', 'nflog-prefix', 'nflog-range', 'nflog-size', 'nflog-threshold'],
  parse(opts) {
    const o = readOptions('NFLOG', opts, {'nflog-group': 1, 'nflog-prefix': 1, 'nflog-range': 1, 'nflog-size': 1, 'nflog-threshold': 1})
    const num = (name: string, max: number) => {
      const v = o.get(name)?.[0]
      return v === undefined ? undefined : parseUint(v, max, `--${name}`)
    }
    const size = num('nflog-size', 0xffffffff) ?? num('nflog-range', 0xffffffff)
    const threshold = num('nflog-threshold', 0xffff)
    return {
      group: num('nflog-group', 0xffff) ?? 0, prefix: o.get('nflog-prefix')?.[0] ?? '',
      ...(size !== undefined ? {size} : {}), ...(threshold !== undefined ? {threshold} : {}),
    }
  },
  apply: (spec) => ({
    verdict: 'CONTINUE',
    effects: [{
      kind: 'log',
      text: `NFLOG: a copy${spec.size !== undefined ? ` of the first ${spec.size} bytes` : ''} goes to nflog group ${spec.group}${spec.prefix ? ` with prefix ${JSON.stringify(spec.prefix)}` : ''}${spec.threshold !== undefined ? ` (batched by ${spec.threshold})` : ''}; the packet continues`,
    }],
  }),
}
