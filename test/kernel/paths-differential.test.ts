/**
 * Hand-picked kernel-differential cases for path semantics the engine models from reading the kernel source
 * (src/engine/path.ts, src/engine/conntrack.ts): local traffic looping back through lo, NOTRACK, rp_filter and
 * src_valid_mark, forwarding switched off, martian addresses and route_localnet, TCP/ICMP packets without a
 * connection, ICMP errors RELATED to a connection, re-routing after mangle/nat OUTPUT.
 *
 * Each case loads rules (plus sysctls, routes, ip rules) in the node namespace, sends its packets, and checks two
 * things: what the kernel did (the facts this case pins: rules seen/not seen by their comment, conntrack state per
 * chain through LOG-free `-m conntrack --ctstate X` probe rules, disposition) and that the engine, run on a snapshot
 * collected from the namespace, agrees with the kernel (rules and verdicts, disposition, output device, final mark,
 * addresses after NAT, conntrack state where the packet leaves or is delivered).
 * A case the engine gets wrong is marked `todo: 'engine: …'` (the suite stays green; the report names the fix).
 *
 *   sudo node scripts/test.mjs test/kernel/paths-differential.test.ts
 *   NFSTEP_PATHS_CASE=rp_filter       only the cases whose name contains this
 *
 * Without root or tools: skipped loudly (failure in CI as root), as differential.test.ts.
 * The loopback cases need KernelOracle.send() to follow a packet that leaves by lo into its second trace id (the
 * looped copy is traced under a new id on 6.18).
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {inNs, NET, POLICY_TABLE} from './netns.ts'
import type {KernelResult} from './oracle.ts'
import {engineSession, flowSpec, withKernel} from './suite.ts'
import {table} from '../helpers/snapshot.ts'
import {describePacket, toPacketSpec as genSpec, type GenPacket} from './generator.ts'
import type {KernelDisposition, VerdictEvent} from './verdict-trace.ts'
import {formatEngineOutcome, formatKernelNat, matchOutcome} from './nat-compare.ts'
import {PROTO, TCP_FLAGS, type PacketSpec} from '../../src/model/packet.ts'
import type {Session} from '../../src/engine/trace.ts'
import type {Family} from '../../src/net/addr.ts'

type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED'
const STATES: CtState[] = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED']

/** What the kernel must be seen doing (the fact the case is about), besides agreeing with the engine. */
interface Expect {
  disposition: KernelDisposition
  /** Probe label → the one ctstate its probe rules saw (`pre: 'NEW'`: pre-NEW matched, pre-INVALID etc. did not). */
  states?: Record<string, CtState>
  /** Comments of rules that matched / did not match. */
  seen?: string[]
  unseen?: string[]
  oif?: string
  /** Destination after NAT where the packet left or was delivered. */
  dst?: string
  mark?: number
  /** ct state at the end probe. */
  ct?: CtState
}

interface Send {
  p: GenPacket
  expect: Expect
  /** Keep conntrack from the previous packet of the case (a later packet of a flow). */
  keep?: boolean
  /** The engine's input for a packet continuing an earlier one (`related_of` …); else the packet itself. */
  flow?: Record<string, unknown>
}

interface PathCase {
  name: string
  family: Family
  iptables: string
  sysctls?: [string, string][]
  /** `ip -4|-6 route add` arguments, removed after the case. */
  routes?: string[][]
  ipRules?: string[][]
  sends: Send[]
  todo?: string
}

// ---------------------------------------------------------------------------------------------------------------
// Ruleset and packet builders

/** iptables-restore text: the given tables with all built-in chains at ACCEPT. */
function ruleset(tables: Partial<Record<'raw' | 'mangle' | 'nat' | 'filter', string[]>>): string {
  return Object.entries(tables).map(([t, rules]) => table(t, {rules})).join('')
}

/** One counting rule per ctstate, named `<label>-<STATE>`: the trace shows which one matched. */
function probes(chain: string, label: string): string[] {
  return STATES.map((s) => `-A ${chain} -m conntrack --ctstate ${s} -m comment --comment ${label}-${s}`)
}

/** ctstate probes in every mangle chain: pre, in, fwd, out, post. */
const MANGLE_PROBES = [...probes('PREROUTING', 'pre'), ...probes('INPUT', 'in'), ...probes('FORWARD', 'fwd'), ...probes('OUTPUT', 'out'), ...probes('POSTROUTING', 'post')]

const V4 = NET[4]
const V6 = NET[6]

function packet(id: string, from: GenPacket['from'], family: Family, proto: number, src: string, dst: string, more: Partial<GenPacket> = {}): GenPacket {
  return {id, from, family, proto, src, dst, mark: 0, tag: 0, ...more}
}
const udp = (id: string, from: GenPacket['from'], src: string, dst: string, dport: number, more: Partial<GenPacket> = {}) =>
  packet(id, from, src.includes(':') ? 6 : 4, PROTO.udp, src, dst, {sport: 40000, dport, ...more})
const {FIN, SYN, RST, PSH, ACK} = TCP_FLAGS
const tcp = (id: string, from: GenPacket['from'], src: string, dst: string, dport: number, flags: number) =>
  packet(id, from, src.includes(':') ? 6 : 4, PROTO.tcp, src, dst, {sport: 40000, dport, tcpFlags: flags, ...(flags & ACK ? {ack: 1} : {})})

// ---------------------------------------------------------------------------------------------------------------
// The cases

const LOOP_RULES = (fam: Family) => {
  const dnatTo = fam === 4 ? `${V4.nodeExtra}:7777` : `[${V6.nodeExtra}]:7777`
  return ruleset({
    // A looped-back packet already carries its entry: CT --notrack has nothing to do (xt_CT.c: skb->_nfct set).
    raw: ['-A PREROUTING -i lo -m comment --comment raw-lo-notrack -j CT --notrack'],
    mangle: [
      '-A OUTPUT -m comment --comment out-mark -j MARK --set-xmark 0x5/0xffffffff',
      '-A OUTPUT -m comment --comment out-connmark -j CONNMARK --set-xmark 0x7/0xffffffff',
      ...MANGLE_PROBES,
      '-A PREROUTING -m mark --mark 0x5 -m comment --comment pre-mark5',
      // The entry's connmark, set in OUTPUT: the looped packet has the same entry, not a fresh one.
      '-A PREROUTING -m connmark --mark 0x7 -m comment --comment pre-connmark7',
      '-A INPUT -m mark --mark 0x5 -m comment --comment in-mark5',
    ],
    nat: [
      `-A PREROUTING -p udp -m comment --comment nat-pre -j DNAT --to-destination ${dnatTo}`,
      '-A INPUT -m comment --comment nat-in',
      '-A OUTPUT -m comment --comment nat-out',
      '-A POSTROUTING -m comment --comment nat-post',
    ],
    filter: ['-A INPUT -i lo -m comment --comment filter-in-lo'],
  })
}

const LOOP_EXPECT: Expect = {
  disposition: 'local', states: {out: 'NEW', post: 'NEW', pre: 'NEW', in: 'NEW'},
  seen: ['raw-lo-notrack', 'pre-mark5', 'pre-connmark7', 'in-mark5', 'nat-out', 'nat-post', 'filter-in-lo'],
  unseen: ['nat-pre', 'nat-in'], mark: 0x5, ct: 'NEW',
}

const NOTRACK_RULES = (fam: Family) => ruleset({
  raw: [
    '-A PREROUTING -p udp --dport 5000 -m comment --comment raw-ct-notrack -j CT --notrack',
    '-A OUTPUT -p udp --dport 5000 -m comment --comment raw-notrack -j NOTRACK',
  ],
  mangle: MANGLE_PROBES,
  nat: [
    `-A PREROUTING -p udp -m comment --comment nat-pre -j DNAT --to-destination ${fam === 4 ? '10.97.0.99' : 'fd97::99'}`,
    `-A OUTPUT -p udp -m comment --comment nat-out -j DNAT --to-destination ${fam === 4 ? '10.97.0.98' : 'fd97::98'}`,
    '-A POSTROUTING -m comment --comment nat-post',
  ],
})

const FORWARD_PROBES = ruleset({mangle: MANGLE_PROBES})

/** A policy rule that never matches the test packets: only its presence matters (fib4_has_custom_rules). */
const CUSTOM_RULE = ['to', '10.94.0.0/16', 'table', String(POLICY_TABLE), 'pref', '1001']

const CASES: PathCase[] = [
  // 1. Local → local: OUTPUT, POSTROUTING, then PREROUTING and INPUT on lo with the same entry and mark.
  {
    name: 'loopback (IPv4): local → local address runs OUTPUT, POSTROUTING, then PREROUTING, INPUT on lo; same NEW entry and mark; nat PREROUTING/INPUT not consulted',
    family: 4, iptables: LOOP_RULES(4),
    sends: [{p: udp('lo4', 'local', V4.nodeExtra, V4.client.node, 9999), expect: {...LOOP_EXPECT, dst: V4.client.node}}],
  },
  {
    name: 'loopback (IPv6): the same through lo',
    family: 6, iptables: LOOP_RULES(6),
    sends: [{p: udp('lo6', 'local', V6.nodeExtra, V6.client.node, 9999), expect: {...LOOP_EXPECT, dst: V6.client.node}}],
  },

  // 2. NOTRACK
  {
    name: 'notrack: raw PREROUTING CT --notrack makes the packet UNTRACKED in every later table and the nat table is skipped',
    family: 4, iptables: NOTRACK_RULES(4),
    sends: [
      {p: udp('nt', 'client', '10.98.0.20', '10.97.0.20', 5000), expect: {disposition: 'forward', oif: 'ns0', states: {pre: 'UNTRACKED', fwd: 'UNTRACKED', post: 'UNTRACKED'}, seen: ['raw-ct-notrack'], unseen: ['nat-pre', 'nat-post'], dst: '10.97.0.20', ct: 'UNTRACKED'}},
      // Control: the same rules without the notrack match are NATed.
      {p: udp('nt-control', 'client', '10.98.0.20', '10.97.0.20', 5001), expect: {disposition: 'forward', oif: 'ns0', states: {pre: 'NEW', fwd: 'NEW', post: 'NEW'}, seen: ['nat-pre', 'nat-post'], unseen: ['raw-ct-notrack'], dst: '10.97.0.99', ct: 'NEW'}},
      {p: udp('nt-local', 'local', V4.server.node, '10.97.0.21', 5000), expect: {disposition: 'output', oif: 'ns0', states: {out: 'UNTRACKED', post: 'UNTRACKED'}, seen: ['raw-notrack'], unseen: ['nat-out', 'nat-post'], dst: '10.97.0.21', ct: 'UNTRACKED'}},
    ],
  },
  {
    name: 'notrack (IPv6): CT --notrack, UNTRACKED, no NAT',
    family: 6, iptables: NOTRACK_RULES(6),
    sends: [{p: udp('nt6', 'client', 'fd98::20', 'fd97::20', 5000), expect: {disposition: 'forward', oif: 'ns0', states: {pre: 'UNTRACKED', fwd: 'UNTRACKED', post: 'UNTRACKED'}, unseen: ['nat-pre', 'nat-post'], dst: 'fd97::20', ct: 'UNTRACKED'}}],
  },

  // 3. rp_filter (net/ipv4/fib_frontend.c fib_validate_source)
  {
    name: 'rp_filter=1 (strict) on the input device: a source routed back via another device is dropped after PREROUTING, forwarded or delivered',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.ipv4.conf.nc0.rp_filter', '1']],
    sends: [
      {p: udp('rp1-fwd', 'client', '10.97.0.30', '10.97.0.31', 53), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['fwd-NEW']}},
      {p: udp('rp1-local', 'client', '10.97.0.30', V4.client.node, 53), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['in-NEW']}},
      {p: udp('rp1-ok', 'client', '10.98.0.30', '10.97.0.31', 53), expect: {disposition: 'forward', oif: 'ns0', states: {pre: 'NEW', fwd: 'NEW'}}},
    ],
  },
  {
    name: 'rp_filter=2 (loose): any route back will do; a blackholed source is dropped',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.ipv4.conf.nc0.rp_filter', '2']], routes: [['blackhole', '10.95.0.0/16']],
    sends: [
      {p: udp('rp2-ok', 'client', '10.97.0.30', '10.97.0.31', 53), expect: {disposition: 'forward', oif: 'ns0', states: {fwd: 'NEW'}}},
      {p: udp('rp2-blackhole', 'client', '10.95.0.30', '10.97.0.31', 53), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['fwd-NEW']}},
    ],
  },
  {
    name: 'rp_filter: the device value and conf.all combine by maximum (all=2, nc0=1 → loose)',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.ipv4.conf.all.rp_filter', '2'], ['net.ipv4.conf.nc0.rp_filter', '1']],
    sends: [{p: udp('rp-max', 'client', '10.97.0.30', '10.97.0.31', 53), expect: {disposition: 'forward', oif: 'ns0', states: {fwd: 'NEW'}}}],
  },
  ...([['0', 'forward'], ['1', 'drop']] as const).map(([valid, disposition]): PathCase => ({
    name: `rp_filter=1 with src_valid_mark=${valid}: the reverse lookup ${valid === '1' ? 'uses the mark (fwmark rule → uplink: not the input device)' : 'ignores the mark'}`,
    family: 4,
    iptables: ruleset({mangle: ['-A PREROUTING -i nc0 -m comment --comment pre-mark -j MARK --set-xmark 0x10/0xffffffff', ...MANGLE_PROBES]}),
    sysctls: [['net.ipv4.conf.nc0.rp_filter', '1'], ['net.ipv4.conf.nc0.src_valid_mark', valid]],
    ipRules: [['fwmark', '0x10/0x10', 'table', String(POLICY_TABLE), 'pref', '1000']],
    sends: [{p: udp(`rp-vmark${valid}`, 'client', '10.98.0.33', '10.97.0.33', 53), expect: disposition === 'forward' ? {disposition, oif: 'nu0', mark: 0x10, states: {fwd: 'NEW'}} : {disposition, states: {pre: 'NEW'}, unseen: ['fwd-NEW']}}],
  })),

  // 4. Forwarding switched off
  {
    name: 'net.ipv4.ip_forward=0: a packet to be forwarded is dropped after PREROUTING; local delivery still works',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.ipv4.ip_forward', '0']],
    sends: [
      {p: udp('nofwd', 'client', '10.98.0.40', '10.97.0.40', 53), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['fwd-NEW']}},
      {p: udp('nofwd-local', 'client', '10.98.0.40', V4.client.node, 53), expect: {disposition: 'local', states: {in: 'NEW'}}},
    ],
  },
  {
    name: 'net.ipv4.conf.<in-dev>.forwarding=0 with ip_forward=1: IPv4 does not forward what comes in on that device (IN_DEV_FORWARD in ip_route_input_slow)',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.ipv4.conf.nc0.forwarding', '0']],
    sends: [{p: udp('devfwd-in', 'client', '10.98.0.41', '10.97.0.41', 53), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['fwd-NEW']}}],
  },
  {
    name: 'net.ipv4.conf.<out-dev>.forwarding=0: only the input device counts, forwarding out of it works',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.ipv4.conf.nc0.forwarding', '0']],
    sends: [{p: udp('devfwd-out', 'server', '10.97.0.41', '10.98.0.41', 53), expect: {disposition: 'forward', oif: 'nc0', states: {fwd: 'NEW'}}}],
  },
  {
    name: 'net.ipv6.conf.all.forwarding=0: IPv6 packet to be forwarded is dropped (ip6_forward); local delivery works',
    family: 6, iptables: FORWARD_PROBES, sysctls: [['net.ipv6.conf.all.forwarding', '0']],
    sends: [
      {p: udp('nofwd6', 'client', 'fd98::40', 'fd97::40', 53), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['fwd-NEW']}},
      {p: udp('nofwd6-local', 'client', 'fd98::40', V6.client.node, 53), expect: {disposition: 'local', states: {in: 'NEW'}}},
    ],
  },
  {
    name: 'net.ipv6.conf.<in-dev>.forwarding=0 with all.forwarding=1: IPv6 still forwards (ip6_forward reads devconf_all only)',
    family: 6, iptables: FORWARD_PROBES, sysctls: [['net.ipv6.conf.nc0.forwarding', '0']],
    sends: [{p: udp('devfwd6', 'client', 'fd98::41', 'fd97::41', 53), expect: {disposition: 'forward', oif: 'ns0', states: {fwd: 'NEW'}}}],
  },

  // 5. Martians (net/ipv4/route.c ip_route_input_slow)
  ...(['0', '1'] as const).map((localnet): PathCase => ({
    name: `martians with route_localnet=${localnet}: 127/8 destination (also after a kube-proxy style DNAT to 127.0.0.1) and 127/8 source on nc0 are ${localnet === '0' ? 'dropped after PREROUTING' : 'accepted'}`,
    family: 4,
    iptables: ruleset({
      mangle: MANGLE_PROBES,
      nat: [`-A PREROUTING -d ${V4.client.node} -p tcp --dport 30080 -m comment --comment nat-localhost-nodeport -j DNAT --to-destination 127.0.0.1:8080`],
    }),
    sysctls: [['net.ipv4.conf.all.route_localnet', localnet]],
    sends: localnet === '0'
      ? [
          {p: udp('mart-dst', 'client', '10.98.0.50', '127.0.0.1', 9999), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['in-NEW', 'fwd-NEW']}},
          {p: tcp('mart-dnat', 'client', '10.98.0.50', V4.client.node, 30080, SYN), expect: {disposition: 'drop', states: {pre: 'NEW'}, seen: ['nat-localhost-nodeport'], unseen: ['in-NEW']}},
          {p: udp('mart-src', 'client', '127.0.0.5', V4.client.node, 9999), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['in-NEW']}},
        ]
      : [
          {p: udp('localnet-dst', 'client', '10.98.0.50', '127.0.0.1', 9999), expect: {disposition: 'local', states: {in: 'NEW'}}},
          {p: tcp('localnet-dnat', 'client', '10.98.0.50', V4.client.node, 30080, SYN), expect: {disposition: 'local', states: {in: 'NEW'}, seen: ['nat-localhost-nodeport'], dst: '127.0.0.1'}},
          {p: udp('localnet-src', 'client', '127.0.0.5', V4.client.node, 9999), expect: {disposition: 'local', states: {in: 'NEW'}}},
        ],
  })),
  {
    name: 'martian source: 127.0.0.1 (an address of this host, on lo) from nc0 is dropped even with route_localnet=1',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.ipv4.conf.all.route_localnet', '1']],
    sends: [{p: udp('mart-lo-addr', 'client', '127.0.0.1', V4.client.node, 9999), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['in-NEW']}}],
  },
  {
    name: 'martian source: a packet from the wire with one of this host\'s addresses as source is dropped with rp_filter=0',
    family: 4, iptables: FORWARD_PROBES,
    sends: [
      {p: udp('mart-own-fwd', 'client', V4.server.node, '10.97.0.52', 53), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['fwd-NEW']}},
      {p: udp('mart-own-local', 'client', V4.nodeExtra, V4.client.node, 53), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['in-NEW']}},
    ],
  },
  {
    name: 'rp_filter=0 and no ip rule ever added: sources are not validated beyond the host\'s own addresses (a blackholed source is forwarded)',
    family: 4, iptables: FORWARD_PROBES, routes: [['blackhole', '10.95.0.0/16']],
    sends: [{p: udp('rp0-blackhole', 'client', '10.95.0.30', '10.97.0.31', 53), expect: {disposition: 'forward', oif: 'ns0', states: {fwd: 'NEW'}}}],
  },
  {
    name: 'rp_filter=0 with an ip rule present: the full reverse lookup runs, a source whose route back is local (127.0.0.5, route_localnet=1) is dropped',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.ipv4.conf.all.route_localnet', '1']],
    ipRules: [CUSTOM_RULE],
    sends: [{p: udp('rules-localnet-src', 'client', '127.0.0.5', V4.client.node, 9999), expect: {disposition: 'drop', states: {pre: 'NEW'}, unseen: ['in-NEW']}}],
  },
  {
    name: 'rp_filter=0 with an ip rule present: a blackholed source still passes (the failed reverse lookup is only refused with rp_filter on)',
    family: 4, iptables: FORWARD_PROBES, routes: [['blackhole', '10.95.0.0/16']],
    ipRules: [CUSTOM_RULE],
    sends: [{p: udp('rules-blackhole', 'client', '10.95.0.30', '10.97.0.31', 53), expect: {disposition: 'forward', oif: 'ns0', states: {fwd: 'NEW'}}}],
  },
  {
    name: 'martian (IPv6): ::1 arriving on nc0 is dropped before PREROUTING (ip6_rcv_core)',
    family: 6, iptables: FORWARD_PROBES,
    sends: [
      {p: udp('mart6-dst', 'client', 'fd98::50', '::1', 9999), expect: {disposition: 'drop', unseen: ['pre-NEW']}},
      {p: udp('mart6-src', 'client', '::1', V6.client.node, 9999), expect: {disposition: 'drop', unseen: ['pre-NEW']}},
    ],
  },

  // 6. TCP without an entry (nf_conntrack_proto_tcp.c: tcp_error's tcp_valid_flags, tcp_new's tcp_conntracks[0][..][sNO])
  {
    name: 'TCP without a connection, nf_conntrack_tcp_loose=1: SYN and bare ACK (pickup) are NEW; SYN-ACK, FIN, RST, FIN-ACK, RST-ACK, SYN-FIN, SYN-RST, no flags are INVALID',
    family: 4, iptables: FORWARD_PROBES,
    sends: ([
      ['syn', SYN, 'NEW'], ['ack', ACK, 'NEW'], ['psh-ack', PSH | ACK, 'NEW'], ['syn-ack', SYN | ACK, 'INVALID'], ['fin', FIN, 'INVALID'],
      ['rst', RST, 'INVALID'], ['fin-ack', FIN | ACK, 'INVALID'], ['rst-ack', RST | ACK, 'INVALID'], ['syn-fin', SYN | FIN, 'INVALID'],
      ['syn-rst', SYN | RST, 'INVALID'], ['none', 0, 'INVALID'],
    ] as const).map(([name, flags, state], i): Send => ({
      p: tcp(`tcp-${name}`, 'client', '10.98.0.60', '10.97.0.60', 8000 + i, flags),
      expect: {disposition: 'forward', oif: 'ns0', states: {pre: state, fwd: state, post: state}, ct: state},
    })),
  },
  {
    name: 'TCP without a connection, nf_conntrack_tcp_loose=0: a bare ACK is INVALID (no mid-stream pickup)',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.netfilter.nf_conntrack_tcp_loose', '0']],
    sends: [{p: tcp('noloose-ack', 'client', '10.98.0.61', '10.97.0.61', 8000, ACK), expect: {disposition: 'forward', oif: 'ns0', states: {pre: 'INVALID', fwd: 'INVALID'}, ct: 'INVALID'}}],
  },
  {
    name: 'TCP without a connection, nf_conntrack_tcp_loose=0: a SYN is still NEW',
    family: 4, iptables: FORWARD_PROBES, sysctls: [['net.netfilter.nf_conntrack_tcp_loose', '0']],
    sends: [{p: tcp('noloose-syn', 'client', '10.98.0.61', '10.97.0.61', 8001, SYN), expect: {disposition: 'forward', oif: 'ns0', states: {pre: 'NEW', fwd: 'NEW'}, ct: 'NEW'}}],
  },

  // 7. ICMP (nf_conntrack_proto_icmp.c / _icmpv6.c)
  {
    name: 'ICMP: echo request NEW, echo reply without an entry INVALID, an error quoting no connection INVALID, an error quoting a forwarded flow RELATED',
    family: 4, iptables: FORWARD_PROBES,
    sends: [
      {p: packet('echo', 'client', 4, PROTO.icmp, '10.98.0.70', '10.97.0.70', {icmpType: 8, icmpCode: 0}), expect: {disposition: 'forward', oif: 'ns0', states: {pre: 'NEW', fwd: 'NEW'}, ct: 'NEW'}},
      {p: packet('echo-reply', 'client', 4, PROTO.icmp, '10.98.0.70', '10.97.0.70', {icmpType: 0, icmpCode: 0}), expect: {disposition: 'forward', oif: 'ns0', states: {pre: 'INVALID', fwd: 'INVALID'}, ct: 'INVALID'}},
      {
        p: packet('orphan-error', 'server', 4, PROTO.icmp, '10.97.0.72', '10.98.0.72', {icmpType: 3, icmpCode: 3, inner: {family: 4, proto: PROTO.udp, src: '10.98.0.72', dst: '10.97.0.72', sport: 40000, dport: 53, tag: 1, ttl: 63}}),
        expect: {disposition: 'forward', oif: 'nc0', states: {pre: 'INVALID', fwd: 'INVALID'}, ct: 'INVALID'},
      },
      {p: udp('flow', 'client', '10.98.0.71', '10.97.0.71', 53), expect: {disposition: 'forward', oif: 'ns0', states: {fwd: 'NEW'}, ct: 'NEW'}},
      {
        p: packet('flow-error', 'server', 4, PROTO.icmp, '10.97.0.71', '10.98.0.71', {icmpType: 3, icmpCode: 3, inner: {family: 4, proto: PROTO.udp, src: '10.98.0.71', dst: '10.97.0.71', sport: 40000, dport: 53, tag: 1, ttl: 63}}),
        keep: true, flow: {id: 'flow-error', related_of: 'flow'},
        expect: {disposition: 'forward', oif: 'nc0', states: {pre: 'RELATED', fwd: 'RELATED', post: 'RELATED'}, ct: 'RELATED'},
      },
    ],
  },
  {
    name: 'ICMPv6: echo request NEW, neighbour solicitation UNTRACKED, an error quoting a forwarded flow RELATED',
    family: 6, iptables: FORWARD_PROBES,
    sends: [
      {p: packet('echo6', 'client', 6, PROTO.icmpv6, 'fd98::70', 'fd97::70', {icmpType: 128, icmpCode: 0}), expect: {disposition: 'forward', oif: 'ns0', states: {pre: 'NEW', fwd: 'NEW'}, ct: 'NEW'}},
      {p: packet('ns6', 'client', 6, PROTO.icmpv6, 'fd98::70', V6.client.node, {icmpType: 135, icmpCode: 0}), expect: {disposition: 'local', states: {pre: 'UNTRACKED', in: 'UNTRACKED'}, ct: 'UNTRACKED'}},
      {p: udp('flow6', 'client', 'fd98::71', 'fd97::71', 53), expect: {disposition: 'forward', oif: 'ns0', states: {fwd: 'NEW'}, ct: 'NEW'}},
      {
        p: packet('flow6-error', 'server', 6, PROTO.icmpv6, 'fd97::71', 'fd98::71', {icmpType: 1, icmpCode: 4, inner: {family: 6, proto: PROTO.udp, src: 'fd98::71', dst: 'fd97::71', sport: 40000, dport: 53, tag: 1, ttl: 63}}),
        keep: true, flow: {id: 'flow6-error', related_of: 'flow6'},
        expect: {disposition: 'forward', oif: 'nc0', states: {pre: 'RELATED', fwd: 'RELATED', post: 'RELATED'}, ct: 'RELATED'},
      },
    ],
  },

  // 8. Re-routing after OUTPUT (ip_route_me_harder)
  {
    name: 'reroute: mangle OUTPUT MARK + ip rule fwmark sends a local packet out of the uplink; filter OUTPUT -o still sees the first route, POSTROUTING the new one',
    family: 4,
    iptables: ruleset({
      mangle: ['-A OUTPUT -p udp --dport 53 -m comment --comment out-mark -j MARK --set-xmark 0x10/0xffffffff', '-A POSTROUTING -o nu0 -m comment --comment post-nu0', '-A POSTROUTING -o ns0 -m comment --comment post-ns0'],
      filter: ['-A OUTPUT -o ns0 -m comment --comment fout-ns0', '-A OUTPUT -o nu0 -m comment --comment fout-nu0'],
    }),
    ipRules: [['fwmark', '0x10/0x10', 'table', String(POLICY_TABLE), 'pref', '1000']],
    sends: [{p: udp('rr-mark', 'local', V4.server.node, '10.97.0.80', 53), expect: {disposition: 'output', oif: 'nu0', mark: 0x10, seen: ['out-mark', 'post-nu0', 'fout-ns0'], unseen: ['post-ns0', 'fout-nu0']}}],
  },
  {
    name: 'reroute: nat OUTPUT DNAT to an address behind another interface sends the packet out there',
    family: 4,
    iptables: ruleset({
      nat: ['-A OUTPUT -p udp --dport 53 -m comment --comment nat-out -j DNAT --to-destination 10.98.0.81:5353'],
      mangle: ['-A POSTROUTING -o nc0 -m comment --comment post-nc0', '-A POSTROUTING -o ns0 -m comment --comment post-ns0'],
      filter: ['-A OUTPUT -o ns0 -m comment --comment fout-ns0', '-A OUTPUT -o nc0 -m comment --comment fout-nc0'],
    }),
    sends: [{p: udp('rr-dnat', 'local', V4.server.node, '10.97.0.81', 53), expect: {disposition: 'output', oif: 'nc0', dst: '10.98.0.81', seen: ['nat-out', 'post-nc0', 'fout-ns0'], unseen: ['post-ns0', 'fout-nc0']}}],
  },
  {
    name: 'reroute: nat OUTPUT DNAT to a local address loops the packet back through lo, translated once',
    family: 4,
    iptables: ruleset({
      mangle: MANGLE_PROBES,
      nat: [
        `-A OUTPUT -p udp --dport 53 -m comment --comment nat-out -j DNAT --to-destination ${V4.nodeExtra}:5353`,
        `-A PREROUTING -p udp -m comment --comment nat-pre -j DNAT --to-destination ${V4.client.node}:6000`,
      ],
    }),
    sends: [{p: udp('rr-local', 'local', V4.server.node, '10.97.0.82', 53), expect: {disposition: 'local', dst: V4.nodeExtra, seen: ['nat-out'], unseen: ['nat-pre'], states: {out: 'NEW', post: 'NEW', pre: 'NEW', in: 'NEW'}, ct: 'NEW'}}],
  },
]

// ---------------------------------------------------------------------------------------------------------------
// Running them

/** Where a rule with `-m comment --comment NAME` sits: table, chain and 1-based position, from iptables-restore text. */
function commentPositions(iptables: string): Map<string, {table: string; chain: string; index: number}> {
  const out = new Map<string, {table: string; chain: string; index: number}>()
  const count = new Map<string, number>()
  let table = ''
  for (const line of iptables.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim()
    const m = /^-A (\S+) /.exec(line)
    if (!m) continue
    const key = `${table} ${m[1]}`
    const index = (count.get(key) ?? 0) + 1
    count.set(key, index)
    const name = /--comment (\S+)/.exec(line)?.[1]
    if (!name) continue
    if (out.has(name)) throw new Error(`comment ${name} is used twice`)
    out.set(name, {table, chain: m[1], index})
  }
  return out
}

/** The kernel facts of one packet; empty when the kernel did what the case says. */
function checkKernel(c: PathCase, s: Send, k: KernelResult): string[] {
  const out: string[] = []
  const e = s.expect
  const pos = commentPositions(c.iptables)
  const matched = (name: string) => {
    const at = pos.get(name)
    if (!at) throw new Error(`no rule has comment ${name}`)
    return k.events.some((ev: VerdictEvent) => ev.kind === 'rule' && ev.table === at.table && ev.chain === at.chain && ev.index === at.index)
  }
  if (k.disposition !== e.disposition) out.push(`disposition ${k.disposition}, expected ${e.disposition}`)
  if (e.oif && k.oif !== e.oif) out.push(`oif ${k.oif}, expected ${e.oif}`)
  for (const [label, state] of Object.entries(e.states ?? {})) {
    const saw = STATES.filter((st) => matched(`${label}-${st}`))
    if (saw.length !== 1 || saw[0] !== state) out.push(`${label}: ctstate probes matched [${saw.join(',')}], expected ${state}`)
  }
  for (const n of e.seen ?? []) if (!matched(n)) out.push(`rule ${n} did not match`)
  for (const n of e.unseen ?? []) if (matched(n)) out.push(`rule ${n} matched`)
  if (e.dst && k.final?.dst !== e.dst) out.push(`final dst ${k.final?.dst}, expected ${e.dst}`)
  if (e.mark !== undefined && k.finalMark !== e.mark) out.push(`final mark 0x${k.finalMark.toString(16)}, expected 0x${e.mark.toString(16)}`)
  if (e.ct && k.ct?.state !== e.ct) out.push(`end-probe ct state ${k.ct?.state}, expected ${e.ct}`)
  return out
}

async function engineSpec(session: Session, s: Send, length: number): Promise<PacketSpec> {
  return s.flow ? flowSpec(session, {...s.flow, length}) : {...genSpec(s.p, length), id: s.p.id}
}

/** Applies the case's sysctls, routes and rules; returns the undo steps (run in reverse). */
function setUp(ns: string, c: PathCase): (() => void)[] {
  const undo: (() => void)[] = []
  for (const [key, value] of c.sysctls ?? []) {
    const old = inNs(ns, ['sysctl', '-n', key]).trim()
    inNs(ns, ['sysctl', '-qw', `${key}=${value}`])
    undo.push(() => inNs(ns, ['sysctl', '-qw', `${key}=${old}`]))
  }
  for (const r of c.routes ?? []) {
    inNs(ns, ['ip', `-${c.family}`, 'route', 'add', ...r])
    undo.push(() => inNs(ns, ['ip', `-${c.family}`, 'route', 'del', ...r]))
  }
  return undo
}

test('the engine agrees with the kernel on hand-picked path cases (loopback, notrack, rp_filter, forwarding, martians, TCP/ICMP states, re-routing)', {timeout: 10 * 60_000}, async (t) => {
  const only = process.env.NFSTEP_PATHS_CASE
  const t0 = performance.now()
  await withKernel(t, {}, async (topo, oracle) => {
    const ns = topo.ns.node
    // Cases with ip rules last: adding one sets the namespace's fib4_has_custom_rules for good (deleting it does not
    // clear it), and from then on fib_validate_source does a full reverse lookup even with rp_filter=0, which the
    // cases without rules must not see.
    const ordered = [...CASES.filter((c) => !c.ipRules), ...CASES.filter((c) => c.ipRules)]
    for (const c of ordered) {
      if (only && !c.name.includes(only)) continue
      await t.test(c.name, c.todo ? {todo: c.todo} : {}, async () => {
        await oracle.load({seed: 0, family: c.family, iptables: c.iptables, ipsets: '', ipsetReset: '', ipRules: c.ipRules ?? [], packets: [], changesSets: false})
        const undo = setUp(ns, c)
        try {
          const session = await engineSession(ns)
          const failures: string[] = []
          for (const s of c.sends) {
            // A packet expected to vanish (routing drops it, no netfilter verdict) waits out the whole settle time.
            const k = await oracle.send(s.p, {keepConntrack: s.keep, ...(s.expect.disposition === 'drop' ? {settleMs: 250} : {})})
            const kernel = checkKernel(c, s, k)
            let engine: string[]
            let shown = ''
            try {
              const r = session.trace(await engineSpec(session, s, k.length))
              const m = matchOutcome(k, r.outcomes, r.spec.proto, false)
              engine = m.diffs
              shown = r.outcomes.map(formatEngineOutcome).join('\n')
            } catch (err) {
              engine = [`engine threw: ${(err as Error).stack ?? err}`]
            }
            if (!kernel.length && !engine.length) continue
            failures.push([
              `${c.name}\n  packet ${describePacket(s.p)}`,
              ...kernel.map((d) => `  kernel (case expectation): ${d}`),
              ...engine.map((d) => `  engine vs kernel: ${d}`),
              `--- kernel ---\n${formatKernelNat(k)}`,
              `--- kernel raw trace ---\n${k.raw.join('\n')}`,
              shown && `--- engine ---\n${shown}`,
            ].filter(Boolean).join('\n'))
          }
          assert.equal(failures.length, 0, `\n${failures.join('\n\n')}\n`)
        } finally {
          for (const u of undo.reverse()) u()
        }
      })
    }
  }, () => console.log(`paths-differential: total ${((performance.now() - t0) / 1000).toFixed(1)} s`))
})

