/**
 * `-m cgroup [!] --path P | [!] --cgroup CLASSID` (net/netfilter/xt_cgroup.c): the sending socket's cgroup v2 path
 * (the socket's cgroup or a descendant of P) or net_cls classid. No full socket → no match, whatever `!` says.
 * Cgroups are not in a snapshot: assume.cgroup (a path like `/system.slice/x.service`, or a classid number).
 */
import {OptionError, type MatchKind} from './types.ts'
import {optionTable, value} from './util/options.ts'
import {parseUint} from './util/numbers.ts'
import {withNegation} from './util/negate.ts'

export type CgroupSpec = {path: string; invert: boolean; text: string} | {classid: number; invert: boolean; text: string}

const table = optionTable({path: 1, cgroup: 1})

function norm(p: string): string {
  return '/' + p.split('/').filter(Boolean).join('/')
}

export const cgroup: MatchKind<CgroupSpec> = {
  name: 'cgroup',
  options: table.names,
  parse(opts) {
    const o = table.read(opts)
    const p = o.get('path')
    const c = o.get('cgroup')
    if (!!p === !!c) throw new OptionError('give one of --path or --cgroup')
    if (p) return {path: norm(value(p)), invert: p.negated, text: p.text}
    return {classid: parseUint(value(c!), 0xffffffff, '--cgroup'), invert: c!.negated, text: c!.text}
  },
  eval(spec, ctx) {
    if (!ctx.pkt.local) return {ok: false, detail: 'the packet has no local socket, so cgroup does not match (even with !)'}
    const given = ctx.pkt.assume.cgroup
    if (given === undefined) return {ok: false, assumed: 'the cgroup of the sending socket is unknown; assumed not to match (set assume.cgroup)', detail: 'cgroup of the sending socket unknown'}
    let fact: boolean
    let say: string
    if ('path' in spec) {
      const g = norm(given)
      fact = spec.path === '/' || g === spec.path || g.startsWith(spec.path + '/')
      say = `cgroup ${g} ${fact ? 'is' : 'is not'} ${spec.path} or below it`
    } else {
      fact = /^(0x[0-9a-f]+|\d+)$/i.test(given) && Number(given) === spec.classid
      say = `classid ${given} ${fact ? 'equals' : 'does not equal'} ${spec.classid}`
    }
    return {ok: fact !== spec.invert, assumed: `cgroup from assume.cgroup`, detail: withNegation(say, spec.invert, fact !== spec.invert, spec.text)}
  },
  explain: (_spec, _ctx, _ok, detail) => detail ?? 'cgroup',
}
