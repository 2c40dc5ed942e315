/** Packet flags and the service that turns flags / a line / a JSON file into PacketSpecs. */
import {Flags} from '@oclif/core'
import {readFile} from 'node:fs/promises'
import type {PacketSpec} from '../model/packet.ts'
import {PacketError, parsePacketLine, toPacketSpec, type PacketInput, type SpecContext} from '../packet/spec.ts'

export const packetFlags = {
  proto: Flags.string({char: 'p', description: 'protocol: tcp, udp, sctp, icmp, icmpv6 or a number'}),
  src: Flags.string({description: 'source address'}),
  dst: Flags.string({description: 'destination address'}),
  sport: Flags.integer({description: 'source port (default 40000)'}),
  dport: Flags.integer({description: 'destination port'}),
  in: Flags.string({char: 'i', description: 'input interface (the packet comes from the wire)'}),
  local: Flags.boolean({description: 'locally generated (enters at OUTPUT)'}),
  mark: Flags.string({description: 'skb mark at entry (SO_MARK for local packets), e.g. 0x4000'}),
  'tcp-flags': Flags.string({description: 'TCP flags: SYN,ACK or tcpdump letters (S, S., R, F.) — default SYN'}),
  'icmp-type': Flags.integer({description: 'ICMP(v6) type (default echo request)'}),
  'icmp-code': Flags.integer({description: 'ICMP(v6) code'}),
  family: Flags.string({description: '4 or 6 (inferred from the addresses)', options: ['4', '6']}),
  packets: Flags.file({description: 'JSON file: an array of packets (see README), traced in order'}),
  ct: Flags.string({description: 'force the conntrack state instead of looking it up', options: ['new', 'established', 'related', 'invalid']}),
}

export interface PacketFlagValues {
  proto?: string
  src?: string
  dst?: string
  sport?: number
  dport?: number
  in?: string
  local?: boolean
  mark?: string
  'tcp-flags'?: string
  'icmp-type'?: number
  'icmp-code'?: number
  family?: string
  packets?: string
  ct?: string
}

/** A packet to trace and where it came from (for error messages). */
export interface PacketItem {
  input: unknown
  where: string
}

/**
 * The packets to trace, in order, not yet resolved: a packet of a flow (reply_of …) can only be completed after
 * the packets before it were traced (see toPacketSpec).
 */
export async function packetItems(flags: PacketFlagValues, line: string): Promise<PacketItem[]> {
  if (flags.packets) {
    const text = await readFile(flags.packets, 'utf8')
    let list: unknown
    try {
      list = JSON.parse(text)
    } catch (e) {
      // Also take JSON Lines (one packet object per line), the shape --json writes.
      const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
      try {
        list = lines.map((l) => JSON.parse(l))
      } catch {
        throw new PacketError(`${flags.packets}: not valid JSON (an array of packets, or one packet per line): ${(e as Error).message}`)
      }
    }
    if (!Array.isArray(list)) throw new PacketError(`${flags.packets}: expected a JSON array of packets`)
    return list.map((p, i) => {
      const id = (p as {id?: unknown} | null)?.id
      return {input: p, where: `${flags.packets}: packet ${i + 1}${id !== undefined ? ` (id ${JSON.stringify(id)})` : ''}`}
    })
  }
  let input: PacketInput
  if (line.trim()) input = parsePacketLine(line)
  else {
    if (!flags.dst) throw new PacketError('give a packet: `nfstep trace \'tcp 10.0.0.1:40000 > 10.0.0.2:80 in eth0\'`, or --dst/--src/--in|--local flags, or --packets FILE')
    input = {dst: flags.dst}
  }
  const overrides: Partial<PacketInput> = {
    proto: flags.proto, src: flags.src, sport: flags.sport, dport: flags.dport, in: flags.in, local: flags.local || undefined,
    mark: flags.mark, tcp_flags: flags['tcp-flags'], icmp_type: flags['icmp-type'], icmp_code: flags['icmp-code'],
    family: flags.family === undefined ? undefined : (Number(flags.family) as 4 | 6),
    ct: flags.ct as PacketInput['ct'],
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (input as Record<string, unknown>)[k] = v
  return [{input, where: 'packet'}]
}

export function resolvePacket(item: PacketItem, sctx: SpecContext): PacketSpec {
  try {
    return toPacketSpec(item.input, sctx)
  } catch (e) {
    throw new PacketError(`${item.where}: ${(e as Error).message}`)
  }
}
