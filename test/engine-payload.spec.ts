/**
 * The Engine API export: a candidate's `engine_newPayloadV4` parameters as the execution-apis
 * specification names and encodes them, and a block hash that ethereumjs recomputes from the
 * exported JSON alone (`createBlockFromExecutionPayload` rebuilds the block and refuses a hash that
 * does not match).
 */
import { createBlockFromExecutionPayload } from '@ethereumjs/block'
import { createBlob4844Tx } from '@ethereumjs/tx'
import { sha256 } from '@noble/hashes/sha2.js'
import { expect } from 'aegir/chai'
import { makeCommon } from '../src/core/index.ts'
import { Workload } from '../src/node/workload/workload.ts'
import { concatBytes, fromHex, orderedTrieRoot, requestsHashOf, toExecutionPayload, toHex } from '../src/proto/index.ts'
import { RULES } from './fixtures/chain-workload.ts'
import { unsignedCandidate } from './fixtures/committee.ts'

// execution-apis, src/engine: ExecutionPayloadV3's fields and engine_newPayloadV4's parameters
const PAYLOAD_V3 = {
  parentHash: 32,
  feeRecipient: 20,
  stateRoot: 32,
  receiptsRoot: 32,
  logsBloom: 256,
  prevRandao: 32,
  blockNumber: 'q',
  gasLimit: 'q',
  gasUsed: 'q',
  timestamp: 'q',
  extraData: 'data',
  baseFeePerGas: 'q',
  blockHash: 32,
  transactions: 'list',
  withdrawals: 'list',
  blobGasUsed: 'q',
  excessBlobGas: 'q'
} as const
const QUANTITY = /^0x(0|[1-9a-f][0-9a-f]*)$/
const DATA = /^0x([0-9a-f]{2})*$/

describe('proto: the Engine API export of a candidate', () => {
  const common = makeCommon(RULES)
  const w = new Workload(common, [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)])
  const blob = createBlob4844Tx({ nonce: 0n, gasLimit: 21_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, to: w.addresses[1] as `0x${string}`, value: 0n, maxFeePerBlobGas: 10n ** 10n, blobVersionedHashes: [`0x01${'ab'.repeat(31)}`, `0x01${'cd'.repeat(31)}`], chainId: 31337n }, { common }).sign(w.keys[0])
  const body = [w.ethTransfer(1, w.addresses[0], 5n), blob.serialize(), w.ethTransfer(1, w.addresses[0], 6n)]
  const requests = [concatBytes(Uint8Array.of(0), new Uint8Array(192).fill(9))]
  const candidate = unsignedCandidate(12, body, { transactionsRoot: orderedTrieRoot(body), requestsHash: requestsHashOf(requests), blobGasUsed: 262_144, excessBlobGas: 0 })
  candidate.executionRequests = requests

  it('names and encodes every field as execution-apis defines ExecutionPayloadV3 and engine_newPayloadV4', () => {
    const p = toExecutionPayload(candidate)
    expect(Object.keys(p).sort()).to.deep.equal(['executionPayload', 'executionRequests', 'expectedBlobVersionedHashes', 'parentBeaconBlockRoot'])
    expect(Object.keys(p.executionPayload).sort()).to.deep.equal(Object.keys(PAYLOAD_V3).sort())
    for (const [name, kind] of Object.entries(PAYLOAD_V3)) {
      const v = (p.executionPayload as unknown as Record<string, unknown>)[name]
      if (kind === 'q') { expect(v, name).to.match(QUANTITY) }
      if (kind === 'data') { expect(v, name).to.match(DATA) }
      if (typeof kind === 'number') { expect(v, name).to.match(DATA).and.have.length(2 + 2 * kind) }
    }
    expect(p.executionPayload.withdrawals).to.deep.equal([{ index: '0x5', validatorIndex: '0x9', address: `0x${'77'.repeat(20)}`, amount: '0x773594000' }])
    expect(p.executionPayload.transactions).to.deep.equal(body.map(b => `0x${toHex(b)}`))
    expect(p.executionPayload.blockNumber).to.equal('0x64')
    expect(p.expectedBlobVersionedHashes).to.deep.equal([`0x01${'ab'.repeat(31)}`, `0x01${'cd'.repeat(31)}`])
    expect(p.parentBeaconBlockRoot).to.equal(`0x${'55'.repeat(32)}`)
    expect(p.executionRequests).to.deep.equal([`0x00${'09'.repeat(192)}`])
  })

  it('the block hash recomputed from the exported JSON alone is the candidate\'s', async () => {
    const p = toExecutionPayload(candidate)
    // EIP-7685: what requestsHash commits to, from the exported requests
    const requestsHash = sha256(concatBytes(...p.executionRequests.map(r => sha256(fromHex(r)))))
    const block = await createBlockFromExecutionPayload({ ...p.executionPayload, parentBeaconBlockRoot: p.parentBeaconBlockRoot, requestsHash: `0x${toHex(requestsHash)}` }, { common })
    expect(toHex(block.hash())).to.equal(toHex(candidate.header.blockHash))
    // one wrong field, and the hash no longer matches
    const altered = { ...p.executionPayload, gasUsed: '0x1' as const, parentBeaconBlockRoot: p.parentBeaconBlockRoot, requestsHash: `0x${toHex(requestsHash)}` as `0x${string}` }
    let refused = false
    try { await createBlockFromExecutionPayload(altered, { common }) } catch { refused = true }
    expect(refused).to.equal(true)
  })
})
