import { appendFile, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'aegir/chai'
import { DoubleSignError, SafeSigner } from '../src/machine/index.ts'
import { NodeStore, SigningLog } from '../src/node/index.ts'
import { blsVerify, ssz } from '../src/proto/index.ts'
import { memberKeys, unsignedCandidate } from './fixtures/committee.ts'
import type { SigningRecord } from '../src/machine/index.ts'

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
    const path = join(dir, 'signing-record')
    let log = SigningLog.open(path)
    let signer = new SafeSigner(m.secretKey, log)
    const sig = await signer.sign(5, rootA)
    expect(blsVerify(m.publicKey, rootA, sig)).to.equal(true)
    expect(await signer.sign(5, rootA)).to.deep.equal(sig)
    await expect(signer.sign(5, rootB)).to.eventually.be.rejectedWith(DoubleSignError)
    log.close()

    log = SigningLog.open(path)
    signer = new SafeSigner(m.secretKey, log)
    await expect(signer.sign(5, rootB)).to.eventually.be.rejectedWith(DoubleSignError)
    expect(blsVerify(m.publicKey, rootB, await signer.sign(6, rootB))).to.equal(true)
    log.close()
    expect((await stat(path)).size).to.equal(80)
  })

  it('concurrent sign requests for one slot: exactly one root wins', async () => {
    const [m] = memberKeys(1)
    const log = SigningLog.open(join(dir, 'signing-record'))
    const signer = new SafeSigner(m.secretKey, log)
    const results = await Promise.allSettled([1, 2, 3].map(async b => signer.sign(9, new Uint8Array(32).fill(b))))
    expect(results.filter(r => r.status === 'fulfilled')).to.have.length(1)
    log.close()
  })

  it('signs one request at a time, in call order; one that throws does not hold up the next', async () => {
    const [m] = memberKeys(1)
    const events: string[] = []
    const roots = new Map<number, Uint8Array>()
    const record: SigningRecord = {
      async get (slot) {
        events.push(`get ${slot}`)
        // the earlier the call, the slower its record: only serialization keeps the order
        await new Promise(resolve => setTimeout(resolve, 30 - slot * 10))
        return roots.get(slot)
      },
      async put (slot, root) {
        if (slot === 1) {
          throw new Error('disk full')
        }
        events.push(`put ${slot}`)
        roots.set(slot, root)
      }
    }
    const signer = new SafeSigner(m.secretKey, record)
    const root = (b: number): Uint8Array => new Uint8Array(32).fill(b)
    const results = await Promise.allSettled([signer.sign(0, root(1)), signer.sign(1, root(2)), signer.sign(2, root(3)), signer.sign(0, root(4))])
    expect(results.map(r => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'rejected'])
    expect((results[1] as PromiseRejectedResult).reason).to.have.property('message', 'disk full')
    expect((results[3] as PromiseRejectedResult).reason).to.be.instanceOf(DoubleSignError)
    expect(events).to.deep.equal(['get 0', 'put 0', 'get 1', 'get 2', 'put 2', 'get 0'])
    expect(blsVerify(m.publicKey, root(3), (results[2] as PromiseFulfilledResult<Uint8Array>).value)).to.equal(true)
  })

  it('cuts a torn last record (never flushed, so never signed) and keeps the whole ones', async () => {
    const path = join(dir, 'signing-record')
    const log = SigningLog.open(path)
    await log.put(7, new Uint8Array(32).fill(7))
    log.close()
    await appendFile(path, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 8, 1, 2, 3))
    const reopened = SigningLog.open(path)
    expect(await reopened.get(7)).to.deep.equal(new Uint8Array(32).fill(7))
    expect(await reopened.get(8)).to.equal(undefined)
    await reopened.put(8, new Uint8Array(32).fill(8))
    reopened.close()
    expect((await stat(path)).size).to.equal(80)
    const again = SigningLog.open(path)
    expect(await again.get(8)).to.deep.equal(new Uint8Array(32).fill(8))
    again.close()
  })

  it('imports the signing records of an older store into a new log, once', async () => {
    const [m] = memberKeys(1)
    const store = await NodeStore.open(join(dir, 'db'))
    await store.db.put(Uint8Array.of(0x02, 0, 0, 0, 0, 0, 0, 0, 11), new Uint8Array(32).fill(11))
    const legacy = await store.legacySigningRecords()
    expect(legacy.map(r => r.slot)).to.deep.equal([11])
    const path = join(dir, 'signing-record')
    const log = SigningLog.open(path, legacy)
    await expect(new SafeSigner(m.secretKey, log).sign(11, new Uint8Array(32).fill(12))).to.eventually.be.rejectedWith(DoubleSignError)
    log.close()
    // an existing log is the record: the legacy list is not appended again
    SigningLog.open(path, legacy).close()
    expect((await stat(path)).size).to.equal(40)
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
