/**
 * Upper bounds of every variable-size wire field. Decoding rejects anything larger before it is
 * allocated, so a peer cannot make a member hold more than these.
 */
export const MAX_TRANSACTION_BYTES = 131_072 // geth's txMaxSize
export const MAX_TRANSACTIONS = 4096
export const MAX_HINTS_PER_SLOT = 64
export const MAX_COMMITTEE_SIZE = 64
export const MAX_PEER_ID_BYTES = 64
export const MAX_MULTIADDR_BYTES = 256
export const MAX_ADDRS = 8
/** Any single encoded message, whatever its kind (streams: sync, blobs, hints). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024
/**
 * One gossipsub frame: `@libp2p/gossipsub` 17 length-prefixes every RPC it sends with
 * it-length-prefixed's fixed 4 MiB bound (not configurable; measured: a 6 MiB candidate is dropped by
 * its sender with `InvalidDataLengthError`), so no gossip message may be larger.
 */
export const GOSSIP_FRAME_BYTES = 4 * 1024 * 1024
/**
 * The committee's cap on the RLP size of a block it builds, below EIP-7934's 8 MiB: the sealed
 * candidate must go out in one gossip frame, and 0.5 MiB is left for the rest of it (header, roster,
 * signatures, requests) and the RPC's envelope. A block atelier did not build (blocktest) is held to
 * EIP-7934's cap only.
 */
export const MAX_CANDIDATE_BLOCK_BYTES = GOSSIP_FRAME_BYTES - 512 * 1024
/**
 * One hint (its encoded HintBundle), end to end: the member judges hints up to this size on the hint
 * stream and refuses larger ones with a verdict naming it; an accepted hint travels on to the committee
 * inside one gossip message (AcceptHint), whose frame leaves 0.5 MiB for the rest.
 */
export const MAX_HINT_BYTES = GOSSIP_FRAME_BYTES - 512 * 1024
/** The consensus specs' per-payload bounds (Electra/Fulu), which atelier enforces as they are. */
export const MAX_WITHDRAWALS_PER_PAYLOAD = 16
/** one type's requests: the type byte and 8192 deposits of 192 bytes (the consensus bound) */
export const MAX_EXECUTION_REQUEST_BYTES = 1 + 8192 * 192
export const MAX_EXTRA_DATA_BYTES = 32
export const BYTES_PER_LOGS_BLOOM = 256
/**
 * Blobs (EIP-4844, cell proofs from EIP-7594). A candidate does not carry its blobs: its body commits to
 * their versioned hashes, so the bundle is checked against the candidate by KZG, not by signature,
 * and travels over a request/response stream (`/atelier/blobs/1.0.0`) to whoever publishes the block.
 * A bundle holds at most 32 blobs: BPO2's maximum per block is 21, and 32 sidecars (4.4 MB) stay under
 * MAX_MESSAGE_BYTES.
 */
export const MAX_BLOBS_PER_BUNDLE = 32
/** EIP-7594: one transaction carries six blobs at most. */
export const MAX_BLOBS_PER_TRANSACTION = 6
export const CELLS_PER_EXT_BLOB = 128
export const BYTES_PER_BLOB = 131_072
/** One blob's sidecar on the wire: the blob, its commitment and its 128 cell proofs. */
export const BLOB_SIDECAR_BYTES = BYTES_PER_BLOB + 48 + CELLS_PER_EXT_BLOB * 48
/**
 * A transaction in its network form (EIP-7594 wrapper: the transaction and its six sidecars at most,
 * plus RLP's own headers), as ingestion takes it; only the canonical form travels further.
 */
export const MAX_NETWORK_TRANSACTION_BYTES = MAX_TRANSACTION_BYTES + MAX_BLOBS_PER_TRANSACTION * (BLOB_SIDECAR_BYTES + 16) + 64
