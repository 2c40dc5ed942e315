import {test} from 'node:test'
import assert from 'node:assert/strict'
import {applyMark, bitChangeText, describeXmark, markEffect} from '../../src/targets/mark-bits.ts'

test('markEffect computes (before & ~mask) ^ value and names the bits that changed', () => {
  const e = markEffect('nfmark', 'set-xmark 0x4000/0x4000', 0, 0x4000, 0x4000)
  assert.equal(e.after, 0x4000)
  assert.equal(e.text, 'mark 0x00000000 → 0x00004000: set-xmark 0x4000/0x4000 (bit set: 14)')
})

test('bits cleared by the mask and set by the value are listed separately', () => {
  // before 0b0011 with mask 0xf, value 0x8: bits 0,1 cleared, bit 3 set.
  assert.equal(applyMark(0x3, 0x8, 0xf), 0x8)
  assert.equal(bitChangeText(0x3, 0x8), 'bit set: 3; bits cleared: 0,1')
  assert.equal(markEffect('ctmark', 'x', 0x3, 0x8, 0xf).text, 'ctmark 0x00000003 → 0x00000008: x (bit set: 3; bits cleared: 0,1)')
})

test('value bits outside the mask toggle (xor), they are not forced to 1', () => {
  assert.equal(applyMark(0x10, 0x10, 0), 0)
  assert.equal(applyMark(0x0, 0x10, 0), 0x10)
})

test('results stay unsigned 32-bit with bit 31 involved', () => {
  const e = markEffect('nfmark', 'x', 0x7fffffff, 0x80000000, 0xffffffff)
  assert.equal(e.after, 0x80000000)
  assert.equal(e.mask, 0xffffffff)
  assert.match(e.text, /0x80000000: x \(bit set: 31; bits cleared: 0,1,2,/)
})

test('no change says unchanged', () => {
  assert.equal(markEffect('nfmark', 'x', 0x4000, 0x4000, 0x4000).text, 'mark 0x00004000 → 0x00004000: x (unchanged)')
})

test('describeXmark restores the intent of a saved --set-xmark pair', () => {
  assert.equal(describeXmark(0x4000, 0x4000), 'or 0x4000')
  assert.equal(describeXmark(0xc, 0xffffffff), 'set to 0xc')
  assert.equal(describeXmark(0, 0xffffff00), 'clear 0xffffff00')
  assert.equal(describeXmark(0x4000, 0), 'xor 0x4000')
  assert.equal(describeXmark(0x4000, 0xc000), 'set bits 0xc000 to 0x4000')
  assert.equal(describeXmark(0x3, 0x1), 'clear 0x1, then xor 0x3')
})
