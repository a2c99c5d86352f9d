import { expect } from 'aegir/chai'
import { parseQuote, QuoteError, TdxQuoteVerifier } from '../src/enclave/index.ts'
import { fromHex, toHex } from '../src/proto/index.ts'
import { rejectsWith } from './fixtures/errors.ts'
import {
  INTEL_COLLATERAL, INTEL_MRTD, INTEL_QUOTE, INTEL_QUOTE_TIME, OUTDATED_COLLATERAL, OUTDATED_QUOTE, TAPPD_QUOTE_HEX
} from './fixtures/tdx.ts'

const rejection = async (p: Promise<unknown>): Promise<QuoteError> => rejectsWith(p, QuoteError)

describe('enclave: the real Intel TDX quote', () => {
  const verifier = new TdxQuoteVerifier()

  it('parses a v4 quote by its lengths, not its padded size', () => {
    const q = parseQuote(INTEL_QUOTE)
    expect(q.version).to.equal(4)
    expect(q.bodyType).to.equal('td10')
    expect(toHex(q.td.mrTd)).to.equal(INTEL_MRTD)
    expect(q.signedLength).to.equal(632)
    expect(q.usedLength).to.be.below(INTEL_QUOTE.length)
    expect(q.qeAuthData).to.have.length(32)
    expect(q.pckChainPem).to.match(/BEGIN CERTIFICATE/)
    // the same bytes at the documented offsets
    expect(toHex(INTEL_QUOTE.subarray(184, 232))).to.equal(INTEL_MRTD)
    expect(q.td.reportData).to.deep.equal(INTEL_QUOTE.subarray(568, 632))
  })

  it('parses the tappd quote (hex, no collateral)', () => {
    const q = parseQuote(fromHex(TAPPD_QUOTE_HEX))
    expect(q.version).to.equal(4)
    expect(q.td.mrTd).to.have.length(48)
  })

  it('accepts it as UpToDate at 1750809600 under the pinned Intel root', async () => {
    const v = await verifier.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME, { mrtdAcl: [fromHex(INTEL_MRTD)] })
    expect(v.status).to.equal('UpToDate')
    expect(toHex(v.mrTd)).to.equal(INTEL_MRTD)
    expect(v.validUntil).to.be.above(INTEL_QUOTE_TIME)
  })

  it('serves a repeat from the verdict cache, and still checks the expectations', async () => {
    const fresh = new TdxQuoteVerifier()
    expect((await fresh.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME)).cached).to.equal(false)
    expect((await fresh.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME)).cached).to.equal(true)
    const err = await rejection(fresh.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME, { mrtdAcl: [new Uint8Array(48)] }))
    expect(err.code).to.equal('mrtd-not-allowed')
    // a cached verdict is not used past the collateral's next update
    expect((await rejection(fresh.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME + 40 * 86_400))).code).to.equal('collateral-expired')
  })

  it('rejects one flipped report_data bit', async () => {
    const q = INTEL_QUOTE.slice()
    q[568 + 5] ^= 0x01
    expect((await rejection(verifier.verify(q, INTEL_COLLATERAL, INTEL_QUOTE_TIME))).code).to.equal('bad-signature')
  })

  it('rejects a report_data that does not match the expected binding', async () => {
    const err = await rejection(verifier.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME, { reportData: new Uint8Array(64) }))
    expect(err.code).to.equal('binding-mismatch')
  })

  it('rejects the quote before its collateral is valid and after it expired', async () => {
    expect((await rejection(verifier.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME - 30 * 86_400))).code).to.equal('collateral-not-yet-valid')
    expect((await rejection(verifier.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME + 40 * 86_400))).code).to.equal('collateral-expired')
  })

  it('rejects an MR_TD acl that does not contain it', async () => {
    const err = await rejection(verifier.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME, { mrtdAcl: [fromHex('a1'.repeat(48))] }))
    expect(err.code).to.equal('mrtd-not-allowed')
    expect(err.message).to.include(INTEL_MRTD)
  })

  it('rejects an RTMR that differs from its pin', async () => {
    const err = await rejection(verifier.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME, { rtmrPins: { 3: new Uint8Array(48).fill(1) } }))
    expect(err.code).to.equal('rtmr-mismatch')
  })

  it('rejects a platform with no matching up-to-date TCB level', async () => {
    const now = Date.parse('2026-02-19T00:00:00Z') / 1000
    expect((await rejection(verifier.verify(OUTDATED_QUOTE, OUTDATED_COLLATERAL, now))).code).to.equal('tcb-status')
  })

  it('rejects truncated and non-TDX input with a typed reason', async () => {
    expect((await rejection(verifier.verify(INTEL_QUOTE.subarray(0, 700), INTEL_COLLATERAL, INTEL_QUOTE_TIME))).code).to.equal('malformed-quote')
    const sgx = INTEL_QUOTE.slice()
    sgx[4] = 0
    expect((await rejection(verifier.verify(sgx, INTEL_COLLATERAL, INTEL_QUOTE_TIME))).code).to.equal('unsupported-quote')
    expect((await rejection(verifier.verify(INTEL_QUOTE, { nope: 1 }, INTEL_QUOTE_TIME))).code).to.equal('collateral-invalid')
  })
})
