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
