/**
 * IP addresses and prefixes, pre-parsed once so that per-packet matching is a few integer compares.
 * Parsing is ipaddr.js's; this module only adds the compact forms the engine compares.
 */
import ipaddr from 'ipaddr.js'

export type Family = 4 | 6

/** An address in canonical text plus its bytes (network order). */
export interface IpAddr {
  readonly family: Family
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6. */
  readonly text: string
  readonly bytes: Uint8Array
  /** IPv4 only: the address as an unsigned 32-bit number (0 for IPv6). */
  readonly v4: number
}

/** A prefix (`10.0.0.0/8`). A plain address is a full-length prefix. */
export interface Cidr {
  readonly family: Family
  readonly addr: IpAddr
  readonly prefix: number
  /** As iptables-save prints it: `10.0.0.0/8`, `10.1.2.3/32`. */
  readonly text: string
  /** IPv4 only: network and mask as u32, so containment is one AND. */
  readonly v4net: number
  readonly v4mask: number
}

export class AddrError extends Error {}

function fromParsed(p: ipaddr.IPv4 | ipaddr.IPv6): IpAddr {
  const bytes = Uint8Array.from(p.toByteArray())
  if (p.kind() === 'ipv6') return {family: 6, text: (p as ipaddr.IPv6).toRFC5952String(), bytes, v4: 0}
  return {family: 4, text: p.toString(), bytes, v4: ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0}
}

const addrCache = new Map<string, IpAddr>()

/** Parses an address; strict dotted quad for IPv4 (no `10.1` shorthands). Throws AddrError. */
export function parseAddr(text: string): IpAddr {
  const cached = addrCache.get(text)
  if (cached) return cached
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  let a: IpAddr
  if (ipaddr.IPv4.isValidFourPartDecimal(t)) a = fromParsed(ipaddr.IPv4.parse(t))
  else if (t.includes(':') && ipaddr.IPv6.isValid(t)) a = fromParsed(ipaddr.IPv6.parse(t))
  else throw new AddrError(`not an IP address: ${JSON.stringify(text)}`)
  if (addrCache.size < 1_000_000) addrCache.set(text, a)
  return a
}

export function isAddr(text: string): boolean {
  try {
    parseAddr(text)
    return true
  } catch {
    return false
  }
}

function maskFromPrefix(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
}

function prefixFromDottedMask(mask: IpAddr): number {
  const p = ipaddr.IPv4.parse(mask.text).prefixLengthFromSubnetMask()
  if (p === null) throw new AddrError(`non-contiguous netmask ${mask.text}`)
  return p
}

/**
 * Parses `a.b.c.d[/len|/mask]` or `v6[/len]`. Host bits are cleared, as iptables does when it stores a rule
 * (`-s 10.1.2.3/8` is saved as `10.0.0.0/8`).
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/')
  const addr = parseAddr(slash < 0 ? text : text.slice(0, slash))
  const max = addr.family === 4 ? 32 : 128
  let prefix = max
  if (slash >= 0) {
    const m = text.slice(slash + 1)
    if (/^\d+$/.test(m)) prefix = Number(m)
    else if (addr.family === 4 && isAddr(m)) prefix = prefixFromDottedMask(parseAddr(m))
    else throw new AddrError(`bad prefix length in ${JSON.stringify(text)}`)
    if (prefix > max) throw new AddrError(`prefix length ${prefix} > ${max} in ${JSON.stringify(text)}`)
  }
  return makeCidr(addr, prefix)
}

export function makeCidr(addr: IpAddr, prefix: number): Cidr {
  const bytes = new Uint8Array(addr.bytes)
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8))
    bytes[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff
  }
  const net = fromBytes(addr.family, bytes)
  const v4mask = addr.family === 4 ? maskFromPrefix(prefix) : 0
  return {family: addr.family, addr: net, prefix, text: `${net.text}/${prefix}`, v4net: net.v4, v4mask}
}

export function fromBytes(family: Family, bytes: Uint8Array): IpAddr {
  return fromParsed(family === 4 ? ipaddr.fromByteArray(Array.from(bytes)) : new ipaddr.IPv6(Array.from(bytes.length === 16 ? pairs(bytes) : [])))
}

function pairs(b: Uint8Array): number[] {
  const out: number[] = []
  for (let i = 0; i < 16; i += 2) out.push((b[i] << 8) | b[i + 1])
  return out
}

export function cidrContains(c: Cidr, a: IpAddr): boolean {
  if (c.family !== a.family) return false
  if (c.family === 4) return ((a.v4 & c.v4mask) >>> 0) === c.v4net
  const full = c.prefix >> 3
  for (let i = 0; i < full; i++) if (a.bytes[i] !== c.addr.bytes[i]) return false
  const rest = c.prefix & 7
  if (rest === 0) return true
  const m = (0xff << (8 - rest)) & 0xff
  return (a.bytes[full] & m) === c.addr.bytes[full]
}

/** Compares two addresses of one family numerically (for ranges). */
export function compareAddr(a: IpAddr, b: IpAddr): number {
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return a.bytes[i] - b.bytes[i]
  return 0
}

export function familyOf(text: string): Family {
  return parseAddr(text.split('/')[0]).family
}
