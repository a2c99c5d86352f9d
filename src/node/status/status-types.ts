/**
 * What the status page shows, as the status server streams it (server-sent events on `/events`): one
 * `snapshot` on connect, then `slot`, `committee`, `chain` and `counters` events as they change. The
 * same shapes for one member's page and for the testnet's merged one. JSON only: bigints travel as
 * decimal strings.
 */

/** One committee member as the page lists it. */
export interface MemberRow {
  index: number
  privatePeerId?: string
  publicPeerId?: string
  /** open connections per plane */
  connections: { private: number, public: number }
  /** admitted peers connected now, by role (member, cobuilder, reader), over both planes */
  roles: Record<string, number>
  /** ms since the epoch of its last roster announcement seen (undefined: none yet) */
  lastAnnounce?: number
  reachable: boolean
}

/** One slot as the page's table and plot show it. */
export interface SlotRow {
  slot: number
  /** the slot's leader by rank 0 */
  leader: number
  /** who opened it: the leader, or the member that took it over (undefined: not known here) */
  opener?: number
  /** 'sealed' (a candidate), 'missed' (garbage-collected without one) */
  outcome: 'sealed' | 'missed'
  txs?: number
  gas?: string
  /** the block's value to its fee recipient, wei */
  valueWei?: string
  /** members whose signatures the candidate aggregates, of `committee` */
  agreement?: number
  committee: number
  /** OpenSlot applied → sealed, ms (undefined when this member only adopted the candidate) */
  sealMs?: number
  /** this member's own simulation of the slot, ms */
  simulationMs?: number
  /** the follower / proposer checked the candidate (undefined: not known here) */
  verified?: boolean
  /** where the chain's block at this height came from: the committee's candidate, or a fallback */
  onChain?: 'committee' | 'fallback'
  blockHash?: string
}

export interface ChainRow {
  /** the chain's head block number and hash as this node last saw them */
  headNumber?: number
  headHash?: string
  /** the slot now on the slot clock */
  slotNow: number
  /** the leader of the slot now, and this member's rank in it (0: it leads; undefined on the testnet page) */
  leader: number
  rank?: number
}

/**
 * Counters that need attention: each is a running total; the page turns one red when it moves.
 * Keys: `divergence`, `equivocations`, `missedSlots`, `admissionRejections`, `connectionRefusals`,
 * `ingestionRefusals`, and per reason `admissionRejections:<reason>`, `connectionRefusals:<reason>`.
 */
export type Counters = Record<string, number>

export interface StatusSnapshot {
  /** what this page is about: one member (`member`, with its index) or the whole testnet */
  kind: 'member' | 'testnet'
  index?: number
  committee: MemberRow[]
  chain: ChainRow
  /** newest last; bounded (STATUS_SLOTS) */
  slots: SlotRow[]
  counters: Counters
}

export type StatusEvent =
  | { type: 'snapshot', data: StatusSnapshot }
  | { type: 'slot', data: SlotRow }
  | { type: 'committee', data: MemberRow[] }
  | { type: 'chain', data: ChainRow }
  | { type: 'counters', data: Counters }

/** slots the server keeps and sends at most (the page's table shows the newest 50, its plot all) */
export const STATUS_SLOTS = 2000
