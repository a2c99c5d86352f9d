/**
 * A candidate in the Engine API's shape, for a consensus client's `engine_newPayloadV4` or a relay:
 * `executionPayload` (`ExecutionPayloadV3`: camelCase names, QUANTITY fields as minimal hex, DATA as
 * hex bytes, withdrawals as `WithdrawalV1`), `expectedBlobVersionedHashes` (every blob transaction's
 * hashes, in block order), `parentBeaconBlockRoot` and `executionRequests` (EIP-7685 `type ‖ data`,
 * empty ones left out), as the execution-apis specification defines them. Lodestar's JSON codecs
 * write the beacon API's encoding (snake_case, decimal strings) instead, hence this one.
 */
import { RLP } from '@ethereumjs/rlp'
import { toHex } from './bytes.ts'
import type { CandidateValue } from './types.ts'

type Hex = `0x${string}`

export interface EngineWithdrawalV1 { index: Hex, validatorIndex: Hex, address: Hex, amount: Hex }

export interface ExecutionPayloadV3 {
  parentHash: Hex
  feeRecipient: Hex
  stateRoot: Hex
  receiptsRoot: Hex
  logsBloom: Hex
  prevRandao: Hex
  blockNumber: Hex
  gasLimit: Hex
  gasUsed: Hex
  timestamp: Hex
  extraData: Hex
  baseFeePerGas: Hex
  blockHash: Hex
  transactions: Hex[]
  withdrawals: EngineWithdrawalV1[]
  blobGasUsed: Hex
  excessBlobGas: Hex
}

/** The four parameters of `engine_newPayloadV4`, by name. */
export interface EngineNewPayloadV4 {
  executionPayload: ExecutionPayloadV3
  expectedBlobVersionedHashes: Hex[]
  parentBeaconBlockRoot: Hex
  executionRequests: Hex[]
}

const data = (b: Uint8Array): Hex => `0x${toHex(b)}`
const quantity = (n: number | bigint): Hex => `0x${BigInt(n).toString(16)}`

/** The blob versioned hashes a type-3 transaction carries (field 10 of its payload); none for others. */
export function blobVersionedHashes (raw: Uint8Array): Uint8Array[] {
  if (raw[0] !== 0x03) { return [] }
  const fields = RLP.decode(raw.subarray(1)) as unknown[]
  const hashes = fields[10]
  return Array.isArray(hashes) ? hashes.filter((h): h is Uint8Array => h instanceof Uint8Array) : []
}

export function toExecutionPayload (c: CandidateValue): EngineNewPayloadV4 {
  const h = c.header
  return {
    executionPayload: {
      parentHash: data(h.parentHash),
      feeRecipient: data(h.feeRecipient),
      stateRoot: data(h.stateRoot),
      receiptsRoot: data(h.receiptsRoot),
      logsBloom: data(h.logsBloom),
      prevRandao: data(h.prevRandao),
      blockNumber: quantity(h.number),
      gasLimit: quantity(h.gasLimit),
      gasUsed: quantity(h.gasUsed),
      timestamp: quantity(h.timestamp),
      extraData: data(h.extraData),
      baseFeePerGas: quantity(h.baseFeePerGas),
      blockHash: data(h.blockHash),
      transactions: c.body.map(data),
      withdrawals: c.withdrawals.map(w => ({ index: quantity(w.index), validatorIndex: quantity(w.validatorIndex), address: data(w.address), amount: quantity(w.amount) })),
      blobGasUsed: quantity(h.blobGasUsed),
      excessBlobGas: quantity(h.excessBlobGas)
    },
    expectedBlobVersionedHashes: c.body.flatMap(blobVersionedHashes).map(data),
    parentBeaconBlockRoot: data(h.parentBeaconBlockRoot),
    // EIP-7685: a request type with no data is left out of the list the engine takes
    executionRequests: c.executionRequests.filter(r => r.length > 1).map(data)
  }
}
