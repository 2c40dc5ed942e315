/** Addresses in match options, parsed once and checked against the rule's family; errors become OptionErrors. */
import {AddrError, parseAddr, parseCidr, type Cidr, type Family, type IpAddr} from '../../net/addr.ts'
import {OptionError} from '../types.ts'

function wrap<T>(text: string, f: () => T): T {
  try {
    return f()
  } catch (e) {
    if (e instanceof AddrError) throw new OptionError(`${text}: ${e.message}`)
    throw e
  }
}

function sameFamily(text: string, got: Family, family: Family): void {
  if (got !== family) throw new OptionError(`${text}: an IPv${got} address in an IPv${family} rule`)
}

/** `addr[/len|/dotted-mask]` (-s, -d, --ctorigsrc, …); `text` is the option as written, for messages. */
export function prefixOf(value: string, family: Family, text: string): Cidr {
  const c = wrap(text, () => parseCidr(value))
  sameFamily(text, c.family, family)
  return c
}

export function addressOf(value: string, family: Family, text: string): IpAddr {
  const a = wrap(text, () => parseAddr(value))
  sameFamily(text, a.family, family)
  return a
}
