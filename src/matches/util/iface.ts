/**
 * Interface names in rules (`-i`/`-o`, also physdev): `eth0` is exact, `veth+` a prefix, `+` any device. The kernel
 * compares the device name with the rule's name under a mask that iptables built: strlen+1 bytes (so the NUL makes it
 * exact) or, with a trailing `+`, strlen-1 bytes (net/ipv4/netfilter/ip_tables.c ip_packet_match,
 * include/linux/netfilter/x_tables.h ifname_compare_aligned; libxtables xtables_parse_interface).
 */
import {OptionError} from '../types.ts'

export interface IfacePattern {
  /** As written: `eth0`, `veth+`. */
  readonly text: string
  /** The bytes compared: the whole name, or the part before `+`. */
  readonly prefix: string
  readonly wildcard: boolean
}

/** IFNAMSIZ - 1. */
const MAX_NAME = 15

export function parseIface(text: string): IfacePattern {
  if (text.length === 0 || text.length > MAX_NAME) throw new OptionError(`invalid interface name ${JSON.stringify(text)}`)
  const wildcard = text.endsWith('+')
  return {text, prefix: wildcard ? text.slice(0, -1) : text, wildcard}
}

/** No device (undefined) is the kernel's empty name: only `+` matches it. */
export function ifaceMatches(p: IfacePattern, dev: string | undefined): boolean {
  const name = dev ?? ''
  return p.wildcard ? name.startsWith(p.prefix) : name === p.prefix
}
