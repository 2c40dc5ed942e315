/**
 * `-j NFQUEUE [--queue-num N | --queue-balance A:B] [--queue-bypass] [--queue-cpu-fanout]`: hands the packet to a
 * userspace program through nfnetlink_queue (net/netfilter/xt_NFQUEUE.c). The program's verdict is not knowable
 * here, so the trace ends at QUEUE. With --queue-bypass and no program bound to the queue the packet is accepted
 * (nf_queue.c: NF_QUEUE with the bypass flag becomes NF_ACCEPT); without it, dropped.
 */
import {OptionError} from '../matches/types.ts'
import type {TargetKind} from './types.ts'
import {parseUint, readOptions} from './util.ts'

export interface NfqueueSpec {
  first: number
  last: number
  bypass: boolean
  cpuFanout: boolean
}

export const nfqueueTarget: TargetKind<NfqueueSpec> = {
  name: 'NFQUEUE',
  options: ['queue-num', 'queue-balance', 'queue-bypass', 'queue-cpu-fanout'],
  parse(opts) {
    const o = readOptions('NFQUEUE', opts, {'queue-num': 1, 'queue-balance': 1, 'queue-bypass': 0, 'queue-cpu-fanout': 0})
    if (o.has('queue-num') && o.has('queue-balance')) throw new OptionError('--queue-num and --queue-balance cannot be combined')
    let first = 0
    let last = 0
    const num = o.get('queue-num')?.[0]
    const bal = o.get('queue-balance')?.[0]
    if (num !== undefined) first = last = parseUint(num, 0xffff, 'queue number')
    if (bal !== undefined) {
      const m = /^([^:]+):([^:]+)$/.exec(bal)
      if (!m) throw new OptionError(`bad --queue-balance ${JSON.stringify(bal)} (A:B)`)
      first = parseUint(m[1]!, 0xffff, 'queue number')
      last = parseUint(m[2]!, 0xffff, 'queue number')
      if (last < first) throw new OptionError(`--queue-balance ${bal} is reversed`)
    }
    if (o.has('queue-cpu-fanout') && bal === undefined) throw new OptionError('--queue-cpu-fanout needs --queue-balance')
    return {first, last, bypass: o.has('queue-bypass'), cpuFanout: o.has('queue-cpu-fanout')}
  },
  apply(spec) {
    const q = spec.first === spec.last
      ? `queue ${spec.first}`
      : `one of queues ${spec.first}-${spec.last} (chosen by ${spec.cpuFanout ? 'the CPU handling the packet' : 'a hash of the flow'})`
    const ifNone = spec.bypass ? 'accepted if no program listens (--queue-bypass)' : 'dropped if no program listens'
    return {
      verdict: 'QUEUE',
      effects: [{kind: 'note', text: `NFQUEUE: the packet goes to userspace ${q}; the program's verdict is unknown here (it may accept, drop or modify it); ${ifNone}`}],
    }
  },
}
