/**
 * What input routing refuses before INPUT/FORWARD, besides "no route" (net/ipv4/route.c ip_route_input_slow,
 * net/ipv4/fib_frontend.c fib_validate_source, net/ipv6/ip6_input.c ip6_rcv_core). Each check returns the reason
 * the packet is dropped, or undefined. Confirmed case by case against this kernel (test/kernel/paths-differential).
 */
import type {Run} from './run.ts'

function conf(run: Run, key: string, dev: string): boolean {
  return run.env.sysctl.get(`net.ipv4.conf.all.${key}`) === '1' || run.env.sysctl.get(`net.ipv4.conf.${dev}.${key}`) === '1'
}

/** ip6_rcv_core drops ::1 arriving on a device other than lo before any hook runs. */
export function ipv6LoopbackOnWire(run: Run): string | undefined {
  const p = run.pkt
  if (p.family !== 6 || !p.iif || p.iif === 'lo') return undefined
  return p.src.text === '::1' || p.dst.text === '::1' ? `::1 arriving on ${p.iif} is dropped before PREROUTING (ip6_rcv_core: loopback addresses only on lo)` : undefined
}

/**
 * 127.0.0.0/8 on a device other than lo is martian (destination as it stands after PREROUTING's DNAT) unless
 * route_localnet is set on all or the device.
 */
export function martian(run: Run): string | undefined {
  const p = run.pkt
  if (p.family !== 4 || !p.iif || p.iif === 'lo' || conf(run, 'route_localnet', p.iif)) return undefined
  const lo = (v4: number) => v4 >>> 24 === 127
  if (lo(p.dst.v4)) return `martian destination ${p.dst.text} on ${p.iif}: 127.0.0.0/8 is only routed from lo unless route_localnet=1 (it is not set)`
  if (lo(p.src.v4)) return `martian source ${p.src.text} on ${p.iif}: 127.0.0.0/8 is only accepted on lo unless route_localnet=1 (it is not set)`
  return undefined
}

/**
 * Forwarding is decided by the input device's own setting (IN_DEV_FORWARD); `net.ipv4.ip_forward` sets every
 * device's. IPv6 forwards per `all.forwarding` (ip6_forward), a device's own value does not block.
 */
export function forwardingOff(run: Run): string | undefined {
  const p = run.pkt
  if (p.family === 6) {
    const v = run.env.sysctl.get('net.ipv6.conf.all.forwarding')
    if (v === undefined) run.note('net.ipv6.conf.all.forwarding is not in the snapshot: forwarding assumed enabled')
    return v === '0' ? 'net.ipv6.conf.all.forwarding = 0: the host does not forward IPv6; dropped' : undefined
  }
  const dev = p.iif ? run.env.sysctl.get(`net.ipv4.conf.${p.iif}.forwarding`) : undefined
  const key = dev !== undefined ? `net.ipv4.conf.${p.iif}.forwarding` : 'net.ipv4.ip_forward'
  const v = dev ?? run.env.sysctl.get('net.ipv4.ip_forward')
  if (v === undefined) run.note('net.ipv4.ip_forward is not in the snapshot: forwarding assumed enabled')
  return v === '0' ? `${key} = 0: the host does not forward packets arriving on ${p.iif}; dropped` : undefined
}

/**
 * fib_validate_source: with rp_filter off and no custom ip rules, only a source that is one of this host's own
 * addresses is refused (unless accept_local); otherwise the reverse route is looked up (with the mark only when
 * src_valid_mark): a local or non-unicast answer is refused (unless accept_local for local), no route is refused
 * only with rp_filter on, and strict mode (1) needs the answer to leave by the input device.
 */
export function sourceInvalid(run: Run): string | undefined {
  const p = run.pkt
  if (p.family !== 4 || !p.iif || p.iif === 'lo') return undefined
  const mode = run.env.router.rpFilter(p.iif, 4)
  const acceptLocal = conf(run, 'accept_local', p.iif)
  if (mode === 0 && !run.env.customRules) {
    if (acceptLocal) return undefined
    const dev = run.env.ownAddrs.get(p.src.text)
    return dev ? `source ${p.src.text} is this host's own address (on ${dev}) and accept_local=0: martian source, dropped` : undefined
  }
  const validMark = conf(run, 'src_valid_mark', p.iif)
  const back = run.env.router.lookup({family: 4, dst: p.src, src: p.dst, mark: validMark ? p.mark : 0, tos: p.tos})
  const how = mode === 0 ? 'rp_filter=0 but ip rules are customised, so the kernel looks the source up in full' : `rp_filter=${mode} (${mode === 1 ? 'strict' : 'loose'}) on ${p.iif}`
  if (back.type === 'none') return undefined
  if (back.type !== 'unicast' && back.type !== 'local') {
    const failed = back.type === 'blackhole' || back.type === 'unreachable' || back.type === 'prohibit' || back.type === 'throw'
    if (failed && mode === 0) return undefined
    return `${how}: the route back to ${p.src.text} is ${back.type}; dropped as a reverse-path failure`
  }
  if (back.type === 'local' && !acceptLocal) return `${how}: ${p.src.text} routes back to this host itself (local) and accept_local=0; dropped as a martian source`
  if (mode === 1 && back.dev !== p.iif) return `${how}: the route back to ${p.src.text} leaves via ${back.dev}, not ${p.iif}; dropped as a reverse-path failure`
  run.note(`${how}: the route back to ${p.src.text} leaves via ${back.dev}: source accepted`)
  return undefined
}
