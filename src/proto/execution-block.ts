/**
 * A candidate as an execution block: its header's RLP fields in the yellow paper's order (with the
 * Shanghai, Cancun and Prague additions), the block hash (keccak of that RLP), and the roots the
 * header commits to — transactions and withdrawals (ordered Merkle-Patricia tries) and the EIP-7685
 * requests hash. Pure; a reader checks a candidate's block with these alone.
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes } from '@ethereumjs/util'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes } from './bytes.ts'
import { keccak256 } from './keccak.ts'
import { orderedTrieRoot } from './trie-root.ts'
import type { CandidateHeaderValue, WithdrawalValue } from './types.ts'

/** keccak256(RLP([])): a post-merge block has no ommers */
/** The parent fields a slot's block is built from (chain decodes them from an RPC block, core reads them). */
export interface ParentHeader {
  number: bigint
  hash: Uint8Array
  timestamp: bigint
  gasLimit: bigint
  gasUsed: bigint
  baseFeePerGas: bigint
  excessBlobGas?: bigint
  blobGasUsed?: bigint
}

export const EMPTY_OMMERS_HASH = keccak256(RLP.encode([]))
const ZERO_NONCE = new Uint8Array(8)

/** RLP integers are minimal big-endian bytes, zero being empty. */
const quantity = (n: number | bigint): Uint8Array => bigIntToUnpaddedBytes(BigInt(n))

export function headerRlpFields (h: CandidateHeaderValue): Uint8Array[] {
  return [
    h.parentHash, EMPTY_OMMERS_HASH, h.feeRecipient, h.stateRoot, h.transactionsRoot, h.receiptsRoot, h.logsBloom,
    quantity(0), quantity(h.number), quantity(h.gasLimit), quantity(h.gasUsed), quantity(h.timestamp), h.extraData,
    h.prevRandao, ZERO_NONCE, quantity(h.baseFeePerGas), h.withdrawalsRoot, quantity(h.blobGasUsed),
    quantity(h.excessBlobGas), h.parentBeaconBlockRoot, h.requestsHash
  ]
}

/** The block hash the header's fields give (what `header.blockHash` must be). */
export function executionBlockHash (h: CandidateHeaderValue): Uint8Array {
  return keccak256(RLP.encode(headerRlpFields(h)))
}

/** EIP-4895: the withdrawals trie root over RLP([index, validatorIndex, address, amount]). */
export function withdrawalsRootOf (withdrawals: WithdrawalValue[]): Uint8Array {
  return orderedTrieRoot(withdrawals.map(w => RLP.encode([quantity(w.index), quantity(w.validatorIndex), w.address, quantity(w.amount)])))
}

/** EIP-7685: sha256 over the sha256 of each (non-empty) `request_type ‖ request_data`. */
export function requestsHashOf (requests: Uint8Array[]): Uint8Array {
  return sha256(concatBytes(...requests.filter(r => r.length > 1).map(r => sha256(r))))
}
