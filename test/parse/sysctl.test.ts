import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {parseSysctl, sysctlDevKey} from '../../src/parse/sysctl.ts'

test('sysctl -a lines: key = value, values with tabs kept, bad lines warned', () => {
  const real = parseSysctl(readFileSync(new URL('../fixtures/snapshot/netns-basic/sysctl.txt', import.meta.url), 'utf8'), 'sysctl.txt')
  assert.equal(real.values.get('net.ipv4.conf.c0.rp_filter'), '1')
  assert.equal(real.values.get('net.ipv4.ip_forward'), '1')
  const {values, diagnostics} = parseSysctl('net.ipv4.ip_local_port_range = 32768\t60999\nnonsense\n', 's')
  assert.equal(values.get('net.ipv4.ip_local_port_range'), '32768\t60999')
  assert.deepEqual(diagnostics.map((d) => d.line), [2])
})

test('a dotted device name is printed with / in the key', () => {
  assert.equal(sysctlDevKey('net.ipv4.conf', 'eth0.100', 'rp_filter'), 'net.ipv4.conf.eth0/100.rp_filter')
})
