/**
 * SSZ schemas of every wire type. Field order is part of the encoding: never reorder, only append
 * under a new WIRE_VERSION.
 */
import {
  BooleanType,
  ByteListType,
  ByteVectorType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  UintBigintType,
  UintNumberType,
  VectorCompositeType
} from '@chainsafe/ssz'
import {
  BYTES_PER_BLOB,
  BYTES_PER_LOGS_BLOOM,
  CELLS_PER_EXT_BLOB,
  MAX_ADDRS,
  MAX_BLOBS_PER_BUNDLE,
  MAX_COMMITTEE_SIZE,
  MAX_EXECUTION_REQUEST_BYTES,
  MAX_EXTRA_DATA_BYTES,
  MAX_HINTS_PER_SLOT,
  MAX_MULTIADDR_BYTES,
  MAX_PEER_ID_BYTES,
  MAX_TRANSACTION_BYTES,
  MAX_TRANSACTIONS,
  MAX_WITHDRAWALS_PER_PAYLOAD
} from './limits.ts'
import type { ValueOf } from '@chainsafe/ssz'

export const Uint16 = new UintNumberType(2)
export const Uint64 = new UintNumberType(8)
export const Uint64Big = new UintBigintType(8)
export const Uint256 = new UintBigintType(32)
export const Bytes20 = new ByteVectorType(20)
export const Bytes32 = new ByteVectorType(32)
export const Bytes48 = new ByteVectorType(48)
export const Bytes65 = new ByteVectorType(65)
export const Bytes96 = new ByteVectorType(96)

/** One transaction in its canonical EIP-2718 encoding. */
export const Transaction = new ByteListType(MAX_TRANSACTION_BYTES, { typeName: 'Transaction' })
export const Transactions = new ListCompositeType(Transaction, MAX_TRANSACTIONS, { typeName: 'Transactions' })

/** An ordered group of transactions that lands whole or (when revert-protected and reverting) not at all. */
export const Bundle = new ContainerType({
  txs: Transactions,
  revertProtected: new BooleanType()
}, { typeName: 'Bundle' })

/** A co-builder's partial block template for a slot, signed with its secp256k1 key. */
export const HintBundle = new ContainerType({
  slot: Uint64,
  coBuilder: Bytes20,
  template: Bundle,
  /** r ‖ s ‖ v (v ∈ {0, 1}) over `hintSigningRoot` */
  signature: Bytes65
}, { typeName: 'HintBundle' })

export const HintSigningData = new ContainerType({
  domain: Bytes32,
  slot: Uint64,
  coBuilder: Bytes20,
  templateRoot: Bytes32
}, { typeName: 'HintSigningData' })

/**
 * The execution block header a candidate is (wire version 2): every field of the L1 execution payload
 * header plus what enters the block hash beside it (parent beacon root, requests hash). The roots are
 * the block's own Merkle-Patricia roots (what the block hash commits to), not SSZ roots.
 */
export const CandidateHeader = new ContainerType({
  parentHash: Bytes32,
  feeRecipient: Bytes20,
  stateRoot: Bytes32,
  receiptsRoot: Bytes32,
  logsBloom: new ByteVectorType(BYTES_PER_LOGS_BLOOM),
  prevRandao: Bytes32,
  number: Uint64,
  gasLimit: Uint64,
  gasUsed: Uint64,
  timestamp: Uint64,
  extraData: new ByteListType(MAX_EXTRA_DATA_BYTES),
  baseFeePerGas: Uint256,
  blockHash: Bytes32,
  transactionsRoot: Bytes32,
  withdrawalsRoot: Bytes32,
  blobGasUsed: Uint64,
  excessBlobGas: Uint64,
  parentBeaconBlockRoot: Bytes32,
  requestsHash: Bytes32
}, { typeName: 'CandidateHeader' })

/** A consensus-layer withdrawal (amount in Gwei), as the payload attributes give it. */
export const Withdrawal = new ContainerType({
  index: Uint64Big,
  validatorIndex: Uint64Big,
  address: Bytes20,
  amount: Uint64Big
}, { typeName: 'Withdrawal' })
export const Withdrawals = new ListCompositeType(Withdrawal, MAX_WITHDRAWALS_PER_PAYLOAD, { typeName: 'Withdrawals' })

/**
 * EIP-7685 execution requests as the execution layer encodes them: each `request_type ‖ request_data`
 * (deposits 0x00, withdrawal requests 0x01, consolidations 0x02), types ascending, empty ones left
 * out — exactly what `requestsHash` commits to and `engine_newPayloadV4` takes.
 */
export const ExecutionRequests = new ListCompositeType(new ByteListType(MAX_EXECUTION_REQUEST_BYTES), 3, { typeName: 'ExecutionRequests' })

/**
 * A blob transaction's data beside it (what the network form wraps): one blob, its KZG commitment and
 * its cell proofs (EIP-7594). Its versioned hash is derived from the commitment, never sent.
 */
export const BlobSidecar = new ContainerType({
  commitment: Bytes48,
  proofs: new VectorCompositeType(Bytes48, CELLS_PER_EXT_BLOB),
  blob: new ByteVectorType(BYTES_PER_BLOB)
}, { typeName: 'BlobSidecar' })

/**
 * A candidate's blobs in the Engine API's `BlobsBundleV2` layout (cell proofs, 128 per blob, blob by
 * blob), in the order of the body's versioned hashes: what a proposer publishes beside the block.
 */
export const BlobsBundle = new ContainerType({
  commitments: new ListCompositeType(Bytes48, MAX_BLOBS_PER_BUNDLE),
  proofs: new ListCompositeType(Bytes48, MAX_BLOBS_PER_BUNDLE * CELLS_PER_EXT_BLOB),
  blobs: new ListCompositeType(new ByteVectorType(BYTES_PER_BLOB), MAX_BLOBS_PER_BUNDLE)
}, { typeName: 'BlobsBundle' })

export const HintIds = new ListCompositeType(Bytes32, MAX_HINTS_PER_SLOT, { typeName: 'HintIds' })
export const BlsPublicKeys = new ListCompositeType(Bytes48, MAX_COMMITTEE_SIZE, { typeName: 'BlsPublicKeys' })

/** The sealed block: header, body, withdrawals and requests, its value, and the committee's signature. */
export const Candidate = new ContainerType({
  slot: Uint64,
  header: CandidateHeader,
  body: Transactions,
  withdrawals: Withdrawals,
  executionRequests: ExecutionRequests,
  /** the fee recipient's balance increase over the block's transactions (before withdrawals), wei */
  blockValue: Uint256,
  hintsApplied: HintIds,
  builderSig: Bytes96,
  committeeRoster: BlsPublicKeys
}, { typeName: 'Candidate' })

/** What the committee signs: everything in a candidate but the signature and the signer list. */
export const CandidateSignedFields = new ContainerType({
  slot: Uint64,
  header: Bytes32,
  body: Bytes32,
  withdrawals: Bytes32,
  executionRequests: Bytes32,
  blockValue: Uint256,
  hintsApplied: HintIds
}, { typeName: 'CandidateSignedFields' })

export const SigningData = new ContainerType({
  objectRoot: Bytes32,
  domain: Bytes32
}, { typeName: 'SigningData' })

/** One member's simulation result; `outputHash` is the candidate signing root it computed. */
export const SimOutput = new ContainerType({
  slot: Uint64,
  memberIndex: Uint16,
  outputHash: Bytes32,
  gasEstimate: Uint64,
  /** BLS signature over `outputHash` */
  signature: Bytes96
}, { typeName: 'SimOutput' })

const PeerIdBytes = new ByteListType(MAX_PEER_ID_BYTES, { typeName: 'PeerId' })
const Multiaddrs = new ListCompositeType(new ByteListType(MAX_MULTIADDR_BYTES), MAX_ADDRS, { typeName: 'Multiaddrs' })

export const RosterAnnounceFields = new ContainerType({
  memberIndex: Uint16,
  blsPublicKey: Bytes48,
  privatePeerId: PeerIdBytes,
  privateAddrs: Multiaddrs,
  publicPeerId: PeerIdBytes,
  publicAddrs: Multiaddrs,
  fingerprint: Bytes32,
  /** announcement time in ms; a later announcement replaces an earlier one */
  seq: Uint64
}, { typeName: 'RosterAnnounceFields' })

/** A member's signed statement of where its two planes are and which config it runs. */
export const RosterAnnounce = new ContainerType({
  ...RosterAnnounceFields.fields,
  signature: Bytes96
}, { typeName: 'RosterAnnounce' })

/**
 * Opens a slot and fixes every input its simulation depends on: issued by its leader, or by the next
 * member by rank once the leader has not opened it in time (takeover). Signed by the opener.
 */
export const OpenSlotFields = new ContainerType({
  slot: Uint64,
  parent: Bytes32,
  parentNumber: Uint64,
  timestamp: Uint64,
  feeRecipient: Bytes20,
  prevRandao: Bytes32,
  gasLimit: Uint64,
  /** the opener: the slot's leader, or the member that took it over */
  leaderIndex: Uint16,
  /**
   * the ids of the hints the AcceptHint commands that follow carry, in their order: the slot's inputs
   * are complete once they have all come, and each is bound to this signed OpenSlot
   */
  hintIds: HintIds,
  unsealed: Transactions,
  auctionWinner: Bundle,
  extraData: new ByteListType(MAX_EXTRA_DATA_BYTES),
  parentBeaconBlockRoot: Bytes32,
  withdrawals: Withdrawals
}, { typeName: 'OpenSlotFields' })

export const OpenSlot = new ContainerType({
  ...OpenSlotFields.fields,
  /** the opener's BLS signature over `openSlotSigningRoot` */
  signature: Bytes96
}, { typeName: 'OpenSlot' })

/** What an opener signs: the slot, itself, and the root of the inputs it fixes. */
export const OpenSlotHeader = new ContainerType({
  slot: Uint64,
  leaderIndex: Uint16,
  inputsRoot: Bytes32
}, { typeName: 'OpenSlotHeader' })

/**
 * Evidence that a member signed two different things for one slot where it may sign one: two OpenSlots
 * (kind 1: the roots are their inputs roots) or two simulation outputs (kind 2: the roots are the
 * output hashes). Self-checking against the roster (`equivocationFault`).
 */
export const Equivocation = new ContainerType({
  kind: new UintNumberType(1),
  slot: Uint64,
  member: Uint16,
  rootA: Bytes32,
  signatureA: Bytes96,
  rootB: Bytes32,
  signatureB: Bytes96
}, { typeName: 'Equivocation' })

export const HintAccept = new ContainerType({
  slot: Uint64,
  /** position of this hint among the slot's accepted hints (the leader's acceptance order) */
  sequence: Uint16,
  hint: HintBundle
}, { typeName: 'HintAccept' })

export const SignerIndices = new ListBasicType(Uint16, MAX_COMMITTEE_SIZE, { typeName: 'SignerIndices' })

/**
 * Seals a slot: the agreed output and exactly whose signatures go into the aggregate, so every member
 * applying it builds byte-identical candidates.
 */
export const SealCommit = new ContainerType({
  slot: Uint64,
  outputHash: Bytes32,
  /** roster indices of the signers, strictly ascending */
  signers: SignerIndices
}, { typeName: 'SealCommit' })

export const MarkDone = new ContainerType({
  slot: Uint64
}, { typeName: 'MarkDone' })

/**
 * Unsealed transactions relayed among members so a slot leader sees the whole pool, with the sidecars
 * of the blob transactions among them (or of a bid's), so any member can serve a candidate's blobs.
 */
export const PoolTransactions = new ContainerType({
  txs: Transactions,
  sidecars: new ListCompositeType(BlobSidecar, MAX_BLOBS_PER_BUNDLE)
}, { typeName: 'PoolTransactions' })

/** Asks a member for the sidecars of these versioned hashes (a candidate's, in its body's order). */
export const BlobsRequest = new ContainerType({
  versionedHashes: new ListCompositeType(Bytes32, MAX_BLOBS_PER_BUNDLE)
}, { typeName: 'BlobsRequest' })

/** A bundle offered for a slot's auction (`eth_sendBundle`), or its declared winner. */
export const AuctionBid = new ContainerType({
  slot: Uint64,
  bundle: Bundle,
  /** true when the auction's outcome (not just a bid) */
  winner: new BooleanType()
}, { typeName: 'AuctionBid' })

export type BundleValue = ValueOf<typeof Bundle>
export type PoolTransactionsValue = ValueOf<typeof PoolTransactions>
export type AuctionBidValue = ValueOf<typeof AuctionBid>
export type HintBundleValue = ValueOf<typeof HintBundle>
export type CandidateHeaderValue = ValueOf<typeof CandidateHeader>
export type CandidateValue = ValueOf<typeof Candidate>
export type WithdrawalValue = ValueOf<typeof Withdrawal>
export type ExecutionRequestsValue = ValueOf<typeof ExecutionRequests>
export type BlobsBundleValue = ValueOf<typeof BlobsBundle>
export type BlobSidecarValue = ValueOf<typeof BlobSidecar>
export type SimOutputValue = ValueOf<typeof SimOutput>
export type RosterAnnounceValue = ValueOf<typeof RosterAnnounce>
export type RosterAnnounceFieldsValue = ValueOf<typeof RosterAnnounceFields>
export type OpenSlotValue = ValueOf<typeof OpenSlot>
export type OpenSlotFieldsValue = ValueOf<typeof OpenSlotFields>
export type EquivocationValue = ValueOf<typeof Equivocation>
export type HintAcceptValue = ValueOf<typeof HintAccept>
export type SealCommitValue = ValueOf<typeof SealCommit>
export type MarkDoneValue = ValueOf<typeof MarkDone>
