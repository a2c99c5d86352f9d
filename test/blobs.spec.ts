/**
 * Blob transactions at the edges where their data enters and leaves: ingestion takes the EIP-7594
 * network form apart (KZG-checked sidecars, canonical form onward) and refuses every other shape with
 * its reason; a member's store offers a blob transaction to a slot only with its sidecars; a bundle
 * is checked against a body by commitment hashes and cell proofs; and the network form rebuilt from
 * the canonical form and a bundle is the one the user sent.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { RLP } from '@ethereumjs/rlp'
import { expect } from 'aegir/chai'
import { BlobError, blobsBundleMismatch, isNetworkForm, makeCommon, takeTransaction } from '../src/core/index.ts'
import { BlobStore, InputPool } from '../src/node/index.ts'
import { KzgChecker } from '../src/node/kzg-checker.ts'
import { blobData, Workload } from '../src/node/workload/workload.ts'
import { bundleOf, bundleShapeMismatch, candidateVersionedHashes, decodeMessage, encodeMessage, keccak256, MAX_NETWORK_TRANSACTION_BYTES, networkFormOf, sidecarsOf, toHex, versionedHashOf } from '../src/proto/index.ts'
import { ingestionEndpoint } from './fixtures/ingestion-endpoint.ts'
import type { TestEndpoint } from './fixtures/ingestion-endpoint.ts'
import type { TakenTransaction } from '../src/core/index.ts'
import type { BlobData } from '../src/node/workload/workload.ts'

const RULES = { chainId: 31337, hardfork: 'osaka' }
const execFileAsync = promisify(execFile)

describe('blob transactions: network form, sidecars, bundles', function () {
  // pure-JS KZG: a blob's cell proofs take seconds to compute and about half a second to check
  this.timeout(60_000)
  const common = makeCommon(RULES)
  const w = new Workload(common, [new Uint8Array(32).fill(7), new Uint8Array(32).fill(8)])
  let data: BlobData
  let two: BlobData
  let tx: { network: Uint8Array, canonical: Uint8Array }

  before(() => {
    data = blobData(common, 'one blob for the committee')
    two = { ...data, blobs: [...data.blobs, ...data.blobs], kzgCommitments: [...data.kzgCommitments, ...data.kzgCommitments], kzgProofs: [...data.kzgProofs, ...data.kzgProofs], blobVersionedHashes: [...data.blobVersionedHashes, ...data.blobVersionedHashes] }
    tx = w.blobTransfer(0, w.addresses[1], data)
  })

  const refusal = (raw: Uint8Array): BlobError => {
    try {
      takeTransaction(raw, RULES)
    } catch (err) {
      expect(err).to.be.instanceOf(BlobError)
      return err as BlobError
    }
    throw new Error('taken')
  }

  it('takes the network form apart: the canonical form onward, each sidecar checked and in hash order; rebuilt, it is the bytes sent', () => {
    expect(isNetworkForm(tx.network)).to.equal(true)
    expect(isNetworkForm(tx.canonical)).to.equal(false)
    const taken = takeTransaction(tx.network, RULES)
    expect(toHex(taken.canonical)).to.equal(toHex(tx.canonical))
    expect(taken.sidecars).to.have.length(1)
    expect(taken.sidecars[0].proofs).to.have.length(128)
    expect(`0x${toHex(versionedHashOf(taken.sidecars[0].commitment))}`).to.equal(data.blobVersionedHashes[0])
    expect(toHex(networkFormOf(taken.canonical, taken.sidecars))).to.equal(toHex(tx.network))
    expect(tx.network.length).to.be.below(MAX_NETWORK_TRANSACTION_BYTES)
    // other transactions pass as they are
    const plain = w.ethTransfer(1, w.addresses[0], 1n)
    expect(takeTransaction(plain, RULES)).to.deep.equal({ canonical: plain, sidecars: [] })
  })

  it('refuses a blob transaction without its blobs, in the EIP-4844 form, or with a proof that does not open', () => {
    expect(refusal(tx.canonical).code).to.equal('blob-sidecar-missing')
    // the pre-Osaka wrapper: [tx, blobs, commitments, one proof per blob]
    const items = RLP.decode(tx.network.subarray(1)) as Uint8Array[][]
    const eip4844 = Uint8Array.from([3, ...RLP.encode([items[0], items[2], items[3], [items[4][0]]])])
    const old = refusal(eip4844)
    expect(old.code).to.equal('blob-network-form')
    expect(old.message).to.match(/cell proofs.*EIP-7594/)
    const proofs = items[4].map(p => Uint8Array.from(p))
    ;[proofs[3], proofs[4]] = [proofs[4], proofs[3]]
    const swapped = Uint8Array.from([3, ...RLP.encode([items[0], items[1], items[2], items[3], proofs])])
    expect(refusal(swapped).code).to.equal('blob-kzg')
  })

  it('checks a bundle against a body: commitment hashes, counts, then every cell proof', () => {
    const taken = takeTransaction(w.blobTransfer(0, w.addresses[1], two).network, RULES)
    const bundle = bundleOf(taken.sidecars)
    const hashes = candidateVersionedHashes({ body: [w.ethTransfer(1, w.addresses[0], 1n), taken.canonical] })
    expect(hashes).to.have.length(2)
    expect(blobsBundleMismatch(bundle, hashes)).to.equal(undefined)
    expect(sidecarsOf(bundle)).to.deep.equal(taken.sidecars)
    expect(bundleShapeMismatch({ ...bundle, blobs: bundle.blobs.slice(1) }, hashes)).to.match(/2 blob\(s\); the bundle has 1 blob/)
    expect(blobsBundleMismatch(bundle, [hashes[0], new Uint8Array(32).fill(1)])).to.match(/blob 1: its commitment hashes to/)
    const forged = { ...bundle, blobs: [bundle.blobs[0], Uint8Array.from(bundle.blobs[1]).fill(0, 0, 32 * 8)] }
    expect(blobsBundleMismatch(forged, hashes)).to.match(/cell proof does not open/)
    // the good bundle's verdict is kept for those very bytes: two of its proofs swapped are checked again
    const swapped = [...bundle.proofs]
    ;[swapped[0], swapped[1]] = [swapped[1], swapped[0]]
    expect(blobsBundleMismatch({ ...bundle, proofs: swapped }, hashes)).to.match(/cell proof does not open/)
    expect(blobsBundleMismatch(bundle, hashes)).to.equal(undefined)
  })

  it('a member offers a blob transaction to a slot only while it holds its sidecars; the pool relay carries them', () => {
    const store = new BlobStore(1)
    const pool = new InputPool({ blobs: store })
    const plain = w.ethTransfer(1, w.addresses[0], 2n)
    pool.addTransactions([tx.canonical, plain])
    expect(pool.unsealedFor().map(t => toHex(t))).to.deep.equal([toHex(plain)])
    expect(pool.blobsMissing([tx.canonical])).to.match(/no sidecar held for blob 0x01/)
    const taken = takeTransaction(tx.network, RULES)
    store.add(taken.sidecars)
    expect(pool.unsealedFor()).to.have.length(2)
    const relayed = decodeMessage('PoolTransactions', encodeMessage('PoolTransactions', { txs: [taken.canonical], sidecars: taken.sidecars }))
    expect(relayed.sidecars).to.deep.equal(taken.sidecars)
    // bounded: a newer sidecar pushes the oldest out, and its transaction waits again
    store.add([{ ...taken.sidecars[0], commitment: new Uint8Array(48).fill(5) }])
    expect(store.size).to.equal(1)
    expect(pool.unsealedFor()).to.have.length(1)
    const found = store.bundle([versionedHashOf(new Uint8Array(48).fill(5))])
    expect('bundle' in found && found.bundle.blobs.length).to.equal(1)
  })

  it('the KZG worker takes a blob transaction apart and checks a bundle as the caller\'s own thread would, and refuses with the same typed reason', async () => {
    const checker = new KzgChecker()
    try {
      const [a, b] = await Promise.all([checker.take(tx.network, RULES), checker.take(tx.network, RULES)])
      expect(a).to.deep.equal(takeTransaction(tx.network, RULES))
      expect(b).to.deep.equal(a)
      const err = await checker.take(tx.canonical, RULES).then(() => undefined, (e: unknown) => e)
      expect(err).to.be.instanceOf(BlobError)
      expect((err as BlobError).code).to.equal('blob-sidecar-missing')
      // anything else is taken on the spot
      const plain = w.ethTransfer(1, w.addresses[0], 3n)
      expect((await checker.take(plain, RULES)).canonical).to.equal(plain)
      // a bundle is checked there too, with the main thread's verdicts
      const bundle = bundleOf(a.sidecars)
      const hashes = candidateVersionedHashes({ body: [a.canonical] })
      expect(await checker.bundleMismatch(bundle, hashes)).to.equal(undefined)
      const forged = { ...bundle, blobs: [Uint8Array.from(bundle.blobs[0]).fill(0, 0, 32 * 8)] }
      expect(await checker.bundleMismatch(forged, hashes)).to.equal(blobsBundleMismatch(forged, hashes)).and.match(/cell proof does not open/)
    } finally {
      await checker.stop()
    }
  })

  it('a process that used the KZG worker exits by itself once the worker is idle (a check under way keeps it alive)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'atelier-kzg-exit-'))
    try {
      await writeFile(join(dir, 'tx.bin'), tx.network)
      const checker = new URL('../src/node/kzg-checker.ts', import.meta.url).href
      const script = `import { readFileSync } from 'node:fs'
        const { KzgChecker } = await import(${JSON.stringify(checker)})
        const taken = await new KzgChecker().take(readFileSync(${JSON.stringify(join(dir, 'tx.bin'))}), ${JSON.stringify(RULES)})
        console.log(taken.sidecars.length)`
      // no stop(): the process must end on its own, with the answer printed (not cut off before it)
      await writeFile(join(dir, 'check.mjs'), script)
      const { stdout } = await execFileAsync(process.execPath, [join(dir, 'check.mjs')], { timeout: 30_000 })
      expect(stdout.trim()).to.equal('1')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  describe('at the ingestion endpoint', () => {
    let endpoint: TestEndpoint
    const taken: TakenTransaction[] = []
    before(async () => {
      endpoint = await ingestionEndpoint({
        take: raw => takeTransaction(raw, RULES),
        transactions: t => { taken.push(...t); return t.map(x => `0x${toHex(keccak256(x.canonical))}`) },
        bid: () => {},
        slotOfBlock: n => n
      })
    })
    after(async () => { await endpoint.close() })
    const send = async (raw: Uint8Array): Promise<any> => endpoint.rpc({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: [`0x${toHex(raw)}`] })

    it('takes the network form and answers the transaction\'s hash; refuses the canonical form with the reason', async () => {
      const ok = await send(tx.network)
      expect(ok.result).to.equal(`0x${toHex(keccak256(tx.canonical))}`)
      expect(toHex(taken.at(-1)?.canonical ?? new Uint8Array())).to.equal(toHex(tx.canonical))
      expect(taken.at(-1)?.sidecars).to.have.length(1)
      const bare = await send(tx.canonical)
      expect(bare.error.code).to.equal(-32602)
      expect(bare.error.message).to.match(/^transaction: a blob transaction is taken in its network form only/)
      const big = await endpoint.rpc({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: [`0x${'00'.repeat(MAX_NETWORK_TRANSACTION_BYTES + 1)}`] })
      expect(big.error.message).to.match(/over \d+ bytes/)
    })
  })
})
