import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'aegir/chai'
import { ConfigfsTsmProvider, QuoteProviderError, TdxQuoteVerifier } from '../src/enclave/index.ts'
import { TestTd, TestTdProvider } from '../src/testing/index.ts'
import { FakeConfigfs } from './fixtures/fake-configfs.ts'
import { nowSecs } from './fixtures/tdx.ts'

const MRTD = new Uint8Array(48).fill(0xa1)

describe('enclave: quote providers', function () {
  this.timeout(30_000)
  let td: TestTd
  let fake: FakeConfigfs
  let collateralFile: string

  before(async () => {
    td = await TestTd.create()
    fake = await FakeConfigfs.start(td, { mrTd: MRTD })
    collateralFile = join(fake.root, '..', `${fake.root.split('/').at(-1) ?? 'x'}-collateral.json`)
    await writeFile(collateralFile, JSON.stringify(td.collateral))
  })

  after(async () => {
    await fake.stop()
    await rm(collateralFile, { force: true })
  })

  afterEach(() => {
    fake.provider = 'tdx_guest'
    fake.interfere = 0
  })

  it('configfs-tsm: writes report_data, reads the quote from a fresh entry', async () => {
    const provider = new ConfigfsTsmProvider({ root: fake.root, collateralFile, timeoutMs: 10_000 })
    const reportData = new Uint8Array(64).fill(3)
    const { quote, collateral } = await provider.getQuote(reportData)
    const v = await new TdxQuoteVerifier({ trustedRootDer: td.rootDer }).verify(quote, collateral, nowSecs(), { reportData, mrtdAcl: [MRTD] })
    expect(v.status).to.equal('UpToDate')
    // one fresh entry per request (rmdir of a configfs entry removes its attributes; on this plain
    // directory tree it cannot, so the entry stays behind for us to count)
    const entries = await readdir(fake.root)
    expect(entries).to.have.length(1)
    expect(entries[0]).to.match(/^atelier-\d+-[0-9a-f]{12}$/)
  })

  it('configfs-tsm: serializes concurrent requests, each bound to its own report_data', async () => {
    const provider = new ConfigfsTsmProvider({ root: fake.root, collateralFile, timeoutMs: 10_000 })
    const verifier = new TdxQuoteVerifier({ trustedRootDer: td.rootDer })
    const before = fake.requests
    const datas = [1, 2, 3].map(b => new Uint8Array(64).fill(b))
    const quotes = await Promise.all(datas.map(async d => provider.getQuote(d)))
    for (let i = 0; i < 3; i++) {
      await verifier.verify(quotes[i].quote, quotes[i].collateral, nowSecs(), { reportData: datas[i] })
    }
    expect(fake.requests - before).to.equal(3)
  })

  it('configfs-tsm: refuses a provider other than tdx_guest', async () => {
    fake.provider = 'sev_guest'
    const provider = new ConfigfsTsmProvider({ root: fake.root, collateralFile, timeoutMs: 5_000 })
    const err = await provider.getQuote(new Uint8Array(64)).catch(e => e)
    expect(err).to.be.instanceOf(QuoteProviderError)
    expect(err.code).to.equal('tsm-provider')
  })

  it('configfs-tsm: detects a generation that moved by more than one', async () => {
    fake.interfere = 1
    const provider = new ConfigfsTsmProvider({ root: fake.root, collateralFile, timeoutMs: 5_000 })
    const err = await provider.getQuote(new Uint8Array(64)).catch(e => e)
    expect(err.code).to.equal('tsm-race')
  })

  it('configfs-tsm: explains a missing configfs and a missing collateral source', async () => {
    const provider = new ConfigfsTsmProvider({ root: join(fake.root, 'absent'), collateralFile, timeoutMs: 1_000 })
    expect((await provider.getQuote(new Uint8Array(64)).catch(e => e)).code).to.equal('tsm-unavailable')
    expect(() => new ConfigfsTsmProvider({ root: fake.root })).to.throw(QuoteProviderError)
    await expect(provider.getQuote(new Uint8Array(63))).to.eventually.be.rejectedWith(RangeError)
  })

  it('test TD provider: quotes for its measurements with its collateral', async () => {
    const provider = new TestTdProvider(td, { mrTd: MRTD })
    const reportData = new Uint8Array(64).fill(9)
    const { quote, collateral } = await provider.getQuote(reportData)
    const v = await new TdxQuoteVerifier({ trustedRootDer: td.rootDer }).verify(quote, collateral, nowSecs(), { reportData })
    expect(v.mrTd).to.deep.equal(MRTD)
  })
})
