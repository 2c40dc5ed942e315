import {test} from 'node:test'
import assert from 'node:assert/strict'
import {limit} from '../../src/matches/limit.ts'
import {hashlimit} from '../../src/matches/hashlimit.ts'
import {connlimit} from '../../src/matches/connlimit.ts'
import {quota} from '../../src/matches/quota.ts'
import {recent} from '../../src/matches/recent.ts'
import {socket} from '../../src/matches/socket.ts'
import {owner} from '../../src/matches/owner.ts'
import {cgroup} from '../../src/matches/cgroup.ts'
import {policy} from '../../src/matches/policy.ts'
import {helper} from '../../src/matches/helper.ts'
import {CT_STATUS} from '../../src/engine/state.ts'
import {ct, ctx, packet} from '../helpers/context.ts'
import {matcher} from '../helpers/opts.ts'

test('limit/hashlimit/connlimit: assume.underLimit (default within) decides, and the assumption is stated', () => {
  const l = matcher(limit, ['--limit 5/min', '--limit-burst 10'])
  const d = l(ctx(packet({})))
  assert.equal(d.ok, true)
  assert.match(d.assumed!, /assumed within the limit \(default.*assume\.underLimit=false/)
  assert.equal(l(ctx(packet({assume: {underLimit: false}}))).ok, false)
  assert.match(matcher(limit, [])(ctx(packet({}))).why, /3\/hour \(burst 5\)/)
  const above = matcher(hashlimit, ['--hashlimit-above 10/sec', '--hashlimit-name hl'])
  assert.equal(above(ctx(packet({}))).ok, false)
  assert.equal(above(ctx(packet({assume: {underLimit: false}}))).ok, true)
  assert.equal(matcher(hashlimit, ['--hashlimit-upto 10/sec', '--hashlimit-name hl'])(ctx(packet({}))).ok, true)
  assert.throws(() => matcher(hashlimit, ['--hashlimit-upto 10/sec']), /--hashlimit-name/)
  assert.equal(matcher(connlimit, ['--connlimit-above 10'])(ctx(packet({}))).ok, false)
  assert.equal(matcher(connlimit, ['--connlimit-upto 10'])(ctx(packet({}))).ok, true)
  assert.equal(matcher(connlimit, ['! --connlimit-above 10'])(ctx(packet({assume: {underLimit: false}}))).ok, false)
})

test('quota: ! inverts; a packet longer than the whole quota never fits', () => {
  assert.equal(matcher(quota, ['--quota 1000'])(ctx(packet({}))).ok, true)
  assert.equal(matcher(quota, ['! --quota 1000'])(ctx(packet({}))).ok, false)
  const big = matcher(quota, ['--quota 50'])(ctx(packet({length: 60})))
  assert.deepEqual([big.ok, big.assumed], [false, undefined])
})

test('recent: --set always matches; --rcheck/--update look in assume.recent with the mask and side', () => {
  assert.equal(matcher(recent, ['--set', '--name x'])(ctx(packet({}))).ok, true)
  const check = matcher(recent, ['--rcheck', '--seconds 60', '--name bad', '--mask 255.255.255.0', '--rsource'])
  const listed = check(ctx(packet({src: '192.0.2.77', assume: {recent: {bad: ['192.0.2.1']}}})))
  assert.equal(listed.ok, true)
  assert.match(listed.assumed!, /--seconds 60 assumed satisfied/)
  const empty = check(ctx(packet({src: '192.0.2.77'})))
  assert.equal(empty.ok, false)
  assert.match(empty.assumed!, /assumed empty \(set assume\.recent\.bad\)/)
  const dest = matcher(recent, ['! --update', '--name bad', '--rdest'])
  assert.equal(dest(ctx(packet({dst: '192.0.2.1', assume: {recent: {bad: ['192.0.2.1']}}}))).ok, false)
  assert.equal(dest(ctx(packet({src: '192.0.2.1', assume: {recent: {bad: ['192.0.2.1']}}}))).ok, true)
  assert.equal(matcher(recent, ['--remove'])(ctx(packet({src: '10.0.0.1', assume: {recent: {DEFAULT: ['10.0.0.1']}}}))).ok, true)
})

test('socket: assume.socket, default no socket', () => {
  const m = matcher(socket, ['--transparent', '--nowildcard'])
  const r = m(ctx(packet({})))
  assert.equal(r.ok, false)
  assert.match(r.assumed!, /no matching local IP_TRANSPARENT non-listening socket \(set assume\.socket=true/)
  assert.equal(m(ctx(packet({assume: {socket: true}}))).ok, true)
})

test('owner: no socket → only all-negated tests match; uid/gid ranges from assume', () => {
  const out = {hook: 'OUTPUT' as const}
  const fwd = ctx(packet({}), {hook: 'POSTROUTING'})
  assert.equal(matcher(owner, ['--uid-owner 1000'])(fwd).ok, false)
  assert.equal(matcher(owner, ['! --uid-owner 1000'])(fwd).ok, true)
  assert.equal(matcher(owner, ['! --uid-owner 1000', '--gid-owner 5'])(fwd).ok, false)
  assert.equal(matcher(owner, ['! --socket-exists'])(fwd).ok, true)
  const local = (assume = {}) => ctx(packet({local: true, assume}), out)
  assert.equal(matcher(owner, ['--socket-exists'])(local()).ok, true)
  assert.equal(matcher(owner, ['! --socket-exists'])(local()).ok, false)
  const unknown = matcher(owner, ['--uid-owner 1000-2000'])(local())
  assert.equal(unknown.ok, false)
  assert.match(unknown.assumed!, /set assume\.uid/)
  assert.equal(matcher(owner, ['--uid-owner 1000-2000'])(local({uid: 1500})).ok, true)
  assert.equal(matcher(owner, ['--uid-owner 1000-2000', '! --gid-owner 5'])(local({uid: 1500, gid: 5})).ok, false)
  assert.equal(matcher(owner, ['! --uid-owner 0'])(local({uid: 0})).ok, false)
})

test('cgroup: no socket → no match even with !; path descendants; classid', () => {
  assert.equal(matcher(cgroup, ['! --path /system.slice'])(ctx(packet({}))).ok, false)
  const local = (cg?: string) => ctx(packet({local: true, assume: cg === undefined ? {} : {cgroup: cg}}), {hook: 'OUTPUT'})
  assert.equal(matcher(cgroup, ['--path /system.slice'])(local('/system.slice/sshd.service')).ok, true)
  assert.equal(matcher(cgroup, ['--path system.slice'])(local('/system.slicex')).ok, false)
  assert.equal(matcher(cgroup, ['! --path /system.slice'])(local('/user.slice')).ok, true)
  assert.match(matcher(cgroup, ['--path /'])(local()).assumed!, /assume\.cgroup/)
  assert.equal(matcher(cgroup, ['--cgroup 1048577'])(local('0x100001')).ok, true)
})

test('policy: without IPsec --pol none matches and --pol ipsec does not', () => {
  const none = matcher(policy, ['--dir in', '--pol none'])
  const ipsec = matcher(policy, ['--dir in', '--pol ipsec', '--strict', '--reqid 1', '--proto esp', '--next', '--reqid 2'])
  const plain = ctx(packet({}))
  assert.equal(none(plain).ok, true)
  assert.match(none(plain).assumed!, /set assume\.ipsec=true/)
  assert.equal(ipsec(plain).ok, false)
  const tunnelled = ctx(packet({assume: {ipsec: true}}))
  assert.equal(none(tunnelled).ok, false)
  assert.equal(ipsec(tunnelled).ok, true)
  assert.match(ipsec(tunnelled).assumed!, /--reqid 1 .* are assumed to match/)
  assert.throws(() => matcher(policy, ['--dir in', '--pol none', '--reqid 1']), /only valid with --pol ipsec/)
})

test('helper: tests the master connection of an expected (RELATED) connection; prefix compare over the helper name', () => {
  const p = packet({})
  const related = {...p, ct: ct(p, {state: 'RELATED', status: CT_STATUS.EXPECTED, helper: 'ftp'})}
  assert.equal(matcher(helper, ['--helper ftp'])(ctx(related)).ok, true)
  assert.equal(matcher(helper, ['--helper ftp-21'])(ctx(related)).ok, true, 'strncmp over strlen("ftp")')
  assert.equal(matcher(helper, ['--helper sip'])(ctx(related)).ok, false)
  const fresh = {...p, ct: ct(p)}
  assert.equal(matcher(helper, ['--helper ftp'])(ctx(fresh)).ok, false)
  assert.equal(matcher(helper, ['! --helper ftp'])(ctx(fresh)).ok, true)
  const assumed = {...p, assume: {helper: 'tftp'}, ct: ct(p, {state: 'RELATED'})}
  const r = matcher(helper, ['--helper tftp'])(ctx(assumed))
  assert.equal(r.ok, true)
  assert.match(r.assumed!, /assume\.helper/)
})
