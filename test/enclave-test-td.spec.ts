import { expect } from 'aegir/chai'
import { QuoteError, TdxQuoteVerifier } from '../src/enclave/index.ts'
import { TestTd } from '../src/testing/index.ts'
import { rejectsWith } from './fixtures/errors.ts'
import { INTEL_COLLATERAL, INTEL_QUOTE, INTEL_QUOTE_TIME, nowSecs } from './fixtures/tdx.ts'

const MRTD = new Uint8Array(48).fill(0xa1)
const REPORT = new Uint8Array(64).fill(7)

const rejection = async (p: Promise<unknown>): Promise<QuoteError> => rejectsWith(p, QuoteError)

describe('enclave: software test TD through the production verifier', function () {
  this.timeout(30_000)
  let td: TestTd
  let verifier: TdxQuoteVerifier

  before(async () => {
    td = await TestTd.create()
    verifier = new TdxQuoteVerifier({ trustedRootDer: td.rootDer })
  })

  it('issues a quote accepted (UpToDate) under its root', async () => {
    const quote = await td.quote(REPORT, { mrTd: MRTD, rtmr: [new Uint8Array(48).fill(1)] })
    const v = await verifier.verify(quote, td.collateral, nowSecs(), { mrtdAcl: [MRTD], reportData: REPORT, rtmrPins: { 0: new Uint8Array(48).fill(1) } })
    expect(v.status).to.equal('UpToDate')
    expect(v.mrTd).to.deep.equal(MRTD)
  })

  it('is rejected under the Intel root (untrusted-root)', async () => {
    const quote = await td.quote(REPORT, { mrTd: MRTD })
    expect((await rejection(new TdxQuoteVerifier().verify(quote, td.collateral, nowSecs()))).code).to.equal('untrusted-root')
  })

  it('a verifier with the test root rejects the real Intel quote (untrusted-root)', async () => {
    expect((await rejection(verifier.verify(INTEL_QUOTE, INTEL_COLLATERAL, INTEL_QUOTE_TIME))).code).to.equal('untrusted-root')
  })

  it('rejects a wrong MR_TD', async () => {
    const quote = await td.quote(REPORT, { mrTd: new Uint8Array(48).fill(0xee) })
    expect((await rejection(verifier.verify(quote, td.collateral, nowSecs(), { mrtdAcl: [MRTD] }))).code).to.equal('mrtd-not-allowed')
  })

  it('rejects the DEBUG attribute', async () => {
    const quote = await td.quote(REPORT, { mrTd: MRTD, tdAttributes: Uint8Array.of(1, 0, 0, 0x10, 0, 0, 0, 0) })
    expect((await rejection(verifier.verify(quote, td.collateral, nowSecs()))).code).to.equal('debug')
  })

  it('rejects a tampered quote signature', async () => {
    const quote = await td.quote(REPORT, { mrTd: MRTD })
    quote[636 + 10] ^= 0xff
    expect((await rejection(verifier.verify(quote, td.collateral, nowSecs()))).code).to.equal('bad-signature')
  })

  it('rejects a tampered QE report', async () => {
    const quote = await td.quote(REPORT, { mrTd: MRTD })
    quote[770 + 20] ^= 0x01 // inside the QE report's cpu_svn: the PCK signature no longer covers it
    expect((await rejection(verifier.verify(quote, td.collateral, nowSecs()))).code).to.equal('bad-qe-report-signature')
  })

  it('rejects a non-zero upper half of the QE report_data', async () => {
    const quote = await td.quote(REPORT, { mrTd: MRTD })
    quote[770 + 320 + 40] = 1
    expect((await rejection(verifier.verify(quote, td.collateral, nowSecs()))).code).to.equal('qe-report-binding')
  })

  it('rejects a non-Intel QE vendor id', async () => {
    const quote = await td.quote(REPORT, { mrTd: MRTD })
    quote[12] ^= 0xff
    expect((await rejection(verifier.verify(quote, td.collateral, nowSecs()))).code).to.equal('qe-vendor')
  })

  it('rejects expired collateral', async () => {
    const old = await TestTd.create({ collateralIssued: new Date(Date.now() - 60 * 86_400_000), collateralNextUpdate: new Date(Date.now() - 30 * 86_400_000) })
    const quote = await old.quote(REPORT, { mrTd: MRTD })
    const err = await rejection(new TdxQuoteVerifier({ trustedRootDer: old.rootDer }).verify(quote, old.collateral, nowSecs()))
    expect(err.code).to.equal('collateral-expired')
  })

  it('rejects a revoked PCK certificate', async () => {
    const revoked = await TestTd.create({ revokePck: true })
    const quote = await revoked.quote(REPORT, { mrTd: MRTD })
    const err = await rejection(new TdxQuoteVerifier({ trustedRootDer: revoked.rootDer }).verify(quote, revoked.collateral, nowSecs()))
    expect(err.code).to.equal('revoked')
  })

  it('rejects a CRL not signed by its issuer', async () => {
    const other = await TestTd.create()
    const collateral = { ...td.collateral, pck_crl: other.collateral.pck_crl }
    const quote = await td.quote(REPORT, { mrTd: MRTD })
    expect((await rejection(verifier.verify(quote, collateral, nowSecs()))).code).to.equal('crl-signature')
  })

  it('rejects a TCB status outside the allow-list, accepts it when allowed', async () => {
    const outdated = await TestTd.create({ tcbStatus: 'OutOfDate' })
    const quote = await outdated.quote(REPORT, { mrTd: MRTD })
    const strict = new TdxQuoteVerifier({ trustedRootDer: outdated.rootDer })
    expect((await rejection(strict.verify(quote, outdated.collateral, nowSecs()))).code).to.equal('tcb-status')
    const lenient = new TdxQuoteVerifier({ trustedRootDer: outdated.rootDer, allowedTcbStatuses: ['UpToDate', 'OutOfDate'] })
    expect((await lenient.verify(quote, outdated.collateral, nowSecs())).status).to.equal('OutOfDate')
  })

  it('rejects tampered TCB info', async () => {
    const quote = await td.quote(REPORT, { mrTd: MRTD })
    const collateral = { ...td.collateral, tcb_info: td.collateral.tcb_info.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18') }
    expect((await rejection(verifier.verify(quote, collateral, nowSecs()))).code).to.equal('bad-collateral-signature')
  })

  it('a cached platform verdict still checks each new quote: signature, DEBUG, MR_TD, binding', async () => {
    const v = new TdxQuoteVerifier({ trustedRootDer: td.rootDer })
    expect((await v.verify(await td.quote(REPORT, { mrTd: MRTD }), td.collateral, nowSecs())).cached).to.equal(false)
    const fresh = await td.quote(new Uint8Array(64).fill(8), { mrTd: MRTD })
    const ok = await v.verify(fresh, td.collateral, nowSecs(), { reportData: new Uint8Array(64).fill(8), mrtdAcl: [MRTD] })
    expect(ok.cached).to.equal(true)
    const tampered = fresh.slice()
    tampered[568 + 3] ^= 1
    expect((await rejection(v.verify(tampered, td.collateral, nowSecs()))).code).to.equal('bad-signature')
    const debug = await td.quote(REPORT, { mrTd: MRTD, tdAttributes: Uint8Array.of(1, 0, 0, 0x10, 0, 0, 0, 0) })
    expect((await rejection(v.verify(debug, td.collateral, nowSecs()))).code).to.equal('debug')
    const noSept = await td.quote(REPORT, { mrTd: MRTD, tdAttributes: new Uint8Array(8) })
    expect((await rejection(v.verify(noSept, td.collateral, nowSecs()))).code).to.equal('td-attributes')
    expect((await rejection(v.verify(fresh, td.collateral, nowSecs(), { mrtdAcl: [new Uint8Array(48)] }))).code).to.equal('mrtd-not-allowed')
    expect((await rejection(v.verify(fresh, td.collateral, nowSecs(), { reportData: REPORT }))).code).to.equal('binding-mismatch')
  })

  it('exports and reloads: another process issues quotes under the same root', async () => {
    const again = await TestTd.load(JSON.parse(JSON.stringify(await td.export())))
    const quote = await again.quote(REPORT, { mrTd: MRTD })
    expect((await verifier.verify(quote, td.collateral, nowSecs())).status).to.equal('UpToDate')
  })
})
