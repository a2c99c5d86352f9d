/**
 * The shapes of a slot's simulation: what goes in (the parent header, the environment the leader
 * fixes, the hints, auction winner and pool, the injected state source) and what comes out (body,
 * per-transaction outcomes, gas, roots, the candidate header). Types only.
 */
import type { BundleValue, CandidateHeaderValue, ParentHeader, WithdrawalValue } from '../proto/index.ts'
import type { Common, StateManagerInterface } from '@ethereumjs/common'

/** the parent's fields, as proto defines them for chain and core alike */
export type { ParentHeader }

/** What the slot leader fixes for everyone in OpenSlot. */
export interface SlotEnvironment {
  timestamp: bigint
  feeRecipient: Uint8Array
  prevRandao: Uint8Array
  gasLimit: bigint
  /** the header's extra data (≤ 32 bytes); empty by default */
  extraData?: Uint8Array
  /** EIP-4788: the parent beacon block root; zero by default */
  parentBeaconBlockRoot?: Uint8Array
}

export interface HintInput {
  id: Uint8Array
  bundle: BundleValue
}

export interface SlotInputs {
  parent: ParentHeader
  env: SlotEnvironment
  auctionWinner?: BundleValue
  /** accepted hints, in acceptance order */
  hints: HintInput[]
  unsealed: Uint8Array[]
  /** EIP-4895 withdrawals, applied after the transactions */
  withdrawals?: WithdrawalValue[]
  /**
   * A given block's transactions (`unsealed`) in their own order, no auction or hints: what a block
   * test replays. A transaction the ordering would leave out makes the block invalid (`InvalidBlockError`).
   */
  fixedOrder?: boolean
}

/**
 * Parent state and history, injected: core itself does no I/O. A read that fails throws an error
 * whose `code` starts with `rpc-` or `parent-state-`: the slot's simulation then fails as a whole
 * (see `isStateFailure`), it never excludes the transaction that was reading.
 */
export interface StateSource {
  /** a fresh write overlay on the parent state */
  stateManager(common: Common): StateManagerInterface
  blockHash(number: bigint): Promise<Uint8Array>
  /** optional: warm every listed account in one round trip */
  prefetch?(addresses: string[]): Promise<void>
  /** optional: warm the state these transactions (as calls on the parent) touch */
  prefetchCalls?(calls: Array<{ from: string, to?: string, data: string, value: string, gas: string }>): Promise<void>
  /** the state manager is a proven partial trie: the result carries the post-state root */
  computesStateRoot?: boolean
}

export type TxOrigin = 'auction' | 'hint' | 'pool'

export interface IncludedTx {
  hash: string
  sender: string
  origin: TxOrigin
  gasUsed: bigint
  status: 0 | 1
}

/**
 * What a transaction left out of a block may hope for: `room`, the block had none left for it (gas,
 * bytes, blob gas) and the next may; `state`, it is invalid on this parent (a nonce ahead, a fee cap
 * under the base fee, funds short) and may not be on a later one; `never`, no block can take it
 * (undecodable, its nonce spent or its rival preferred, gas short of its own intrinsic cost). A pool
 * keeps the first two and drops the last.
 */
export type ExclusionOutlook = 'room' | 'state' | 'never'

export interface ExcludedTx {
  hash: string
  origin: TxOrigin
  reason: string
  outlook: ExclusionOutlook
}

export interface SlotResult {
  body: Uint8Array[]
  included: IncludedTx[]
  excluded: ExcludedTx[]
  gasUsed: bigint
  baseFeePerGas: bigint
  receiptsRoot: Uint8Array
  transactionsRoot: Uint8Array
  /** the post-state root, when the state source computes one */
  stateRoot?: Uint8Array
  hintsApplied: Uint8Array[]
  /** the execution block header, every field the block hash commits to (state root zero if not computed) */
  header: CandidateHeaderValue
  withdrawals: WithdrawalValue[]
  /** EIP-7685 requests, `request_type ‖ request_data`, types ascending, empty ones left out */
  executionRequests: Uint8Array[]
  /** the fee recipient's balance increase over the transactions (before withdrawals), wei */
  blockValue: bigint
}
