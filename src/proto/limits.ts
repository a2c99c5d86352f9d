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
/** Any single encoded message, whatever its kind. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024
/** The consensus specs' per-payload bounds (Electra/Fulu), which atelier enforces as they are. */
export const MAX_WITHDRAWALS_PER_PAYLOAD = 16
/** one type's requests: the type byte and 8192 deposits of 192 bytes (the consensus bound) */
export const MAX_EXECUTION_REQUEST_BYTES = 1 + 8192 * 192
export const MAX_EXTRA_DATA_BYTES = 32
export const BYTES_PER_LOGS_BLOOM = 256
/**
 * The blobs bundle's bounds. Its delivery (and so what a candidate with blobs weighs against
 * MAX_MESSAGE_BYTES) comes with the closed loop; until then candidates carry empty bundles.
 */
export const MAX_BLOBS_PER_BUNDLE = 64
export const CELLS_PER_EXT_BLOB = 128
export const BYTES_PER_BLOB = 131_072
