import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'aegir/chai'
import { DoubleSignError, SafeSigner } from '../src/machine/index.ts'
import { NodeStore } from '../src/node/index.ts'
import { blsVerify, ssz } from '../src/proto/index.ts'
import { memberKeys, unsignedCandidate } from './fixtures/committee.ts'

describe('node store and signing record', function () {
  this.timeout(30_000)
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-store-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('never signs two different roots for one slot, also across a restart', async () => {
    const [m] = memberKeys(1)
    const rootA = new Uint8Array(32).fill(1)
    const rootB = new Uint8Array(32).fill(2)
    let store = await NodeStore.open(dir)
    let signer = new SafeSigner(m.secretKey, store.signingRecord)
    const sig = await signer.sign(5, rootA)
    expect(blsVerify(m.publicKey, rootA, sig)).to.equal(true)
    expect(await signer.sign(5, rootA)).to.deep.equal(sig)
    await expect(signer.sign(5, rootB)).to.eventually.be.rejectedWith(DoubleSignError)
    await store.close()

    store = await NodeStore.open(dir)
    signer = new SafeSigner(m.secretKey, store.signingRecord)
    await expect(signer.sign(5, rootB)).to.eventually.be.rejectedWith(DoubleSignError)
    expect(blsVerify(m.publicKey, rootB, await signer.sign(6, rootB))).to.equal(true)
    await store.close()
  })

  it('concurrent sign requests for one slot: exactly one root wins', async () => {
    const [m] = memberKeys(1)
    const store = await NodeStore.open(dir)
    const signer = new SafeSigner(m.secretKey, store.signingRecord)
    const results = await Promise.allSettled([1, 2, 3].map(async b => signer.sign(9, new Uint8Array(32).fill(b))))
    expect(results.filter(r => r.status === 'fulfilled')).to.have.length(1)
    await store.close()
  })

  it('keeps the first candidate per slot and serves ranges in slot order', async () => {
    const store = await NodeStore.open(dir)
    for (const slot of [3, 1, 2, 300]) {
      expect(await store.putCandidate(unsignedCandidate(slot))).to.equal(true)
    }
    const other = { ...unsignedCandidate(2), body: [] }
    expect(await store.putCandidate(other)).to.equal(false)
    expect((await store.getCandidate(2))?.body).to.have.length(2)
    expect((await store.candidateRange(1, 3, 10)).map(r => r.slot)).to.deep.equal([1, 2, 3])
    expect((await store.candidateRange(2, 400, 2)).map(r => r.slot)).to.deep.equal([2, 3])
    expect(await store.latestCandidateSlot()).to.equal(300)
    expect(ssz.Candidate.equals((await store.getCandidate(300)) as never, unsignedCandidate(300))).to.equal(true)
    await store.close()
  })
})
