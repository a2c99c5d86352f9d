import { expect } from 'aegir/chai'
import { compareBytes, concatBytes, equalBytes, fromHex, toHex } from '../src/proto/index.ts'

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs)
const sign = (n: number): number => Math.sign(n)

describe('proto: bytes', () => {
  it('compareBytes: bytewise lexicographic, shorter first on a common prefix', () => {
    expect(compareBytes(b(), b())).to.equal(0)
    expect(compareBytes(b(1, 2, 3), b(1, 2, 3))).to.equal(0)
    expect(sign(compareBytes(b(), b(0)))).to.equal(-1)
    expect(sign(compareBytes(b(0), b()))).to.equal(1)
    expect(sign(compareBytes(b(1, 2), b(1, 2, 0)))).to.equal(-1)
    expect(sign(compareBytes(b(1, 2, 0), b(1, 2)))).to.equal(1)
    // the first differing byte decides, whatever the lengths
    expect(sign(compareBytes(b(1, 3), b(1, 2, 255)))).to.equal(1)
    expect(sign(compareBytes(b(1, 2, 255), b(1, 3)))).to.equal(-1)
    // unsigned bytes: 0x80 sorts after 0x7f
    expect(sign(compareBytes(b(0x80), b(0x7f)))).to.equal(1)
    expect(sign(compareBytes(b(0x00, 0xff), b(0x01)))).to.equal(-1)
    // only the viewed bytes count
    const backing = b(9, 1, 2, 9)
    expect(compareBytes(backing.subarray(1, 3), b(1, 2))).to.equal(0)
  })

  it('compareBytes sorts as Array.sort on hex would (same-length keys)', () => {
    const keys = ['ff00', '00ff', '0100', '00fe', '8000', '7fff'].map(fromHex)
    expect(keys.slice().sort(compareBytes).map(toHex)).to.deep.equal(['00fe', '00ff', '0100', '7fff', '8000', 'ff00'])
    const mixed = ['0102', '01', '', '0101ff', '02'].map(fromHex)
    expect(mixed.slice().sort(compareBytes).map(toHex)).to.deep.equal(['', '01', '0101ff', '0102', '02'])
  })

  it('equalBytes: same length and same bytes', () => {
    expect(equalBytes(b(), b())).to.equal(true)
    expect(equalBytes(b(1, 2), b(1, 2))).to.equal(true)
    expect(equalBytes(b(1, 2), b(1, 2, 0))).to.equal(false)
    expect(equalBytes(b(1, 2, 0), b(1, 2))).to.equal(false)
    expect(equalBytes(b(1, 2), b(1, 3))).to.equal(false)
    expect(equalBytes(b(0), b())).to.equal(false)
    const backing = b(9, 1, 2, 9)
    expect(equalBytes(backing.subarray(1, 3), b(1, 2))).to.equal(true)
  })

  it('concatBytes: the parts in order, in a fresh array', () => {
    expect(concatBytes()).to.deep.equal(new Uint8Array(0))
    expect(concatBytes(b(), b())).to.deep.equal(new Uint8Array(0))
    const one = b(1, 2)
    const single = concatBytes(one)
    expect(single).to.deep.equal(one)
    single[0] = 7
    expect(one[0]).to.equal(1)
    const backing = b(9, 3, 4, 9)
    const out = concatBytes(b(1, 2), b(), backing.subarray(1, 3), b(5))
    expect(toHex(out)).to.equal('0102030405')
    expect(out).to.be.instanceOf(Uint8Array)
    expect(Buffer.isBuffer(out)).to.equal(false)
    // a view: `.buffer` is read with `byteOffset`
    expect(toHex(new Uint8Array(out.buffer, out.byteOffset, out.byteLength))).to.equal('0102030405')
  })
})
