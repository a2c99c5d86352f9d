/**
 * What a testnet run is given (`TestnetOptions`) and what it reports per slot (`SlotProgress`).
 */
import type { ConfigJson } from '../../config/index.ts'
import type { Logger } from '../log.ts'

export interface TestnetOptions {
  members?: number
  /**
   * serve the testnet's status page (every member's stream merged, the proposer's view) on
   * 127.0.0.1:port (0: any free port; undefined: no page, and the members serve none)
   */
  statusPort?: number
  /** seconds per slot (anvil mines a block each) */
  blockTime?: number
  /**
   * withdrawals the beacon source announces per slot (default 2 when anvil mines on its own, 0 in the
   * closed loop: anvil cannot apply withdrawals to the blocks it is given)
   */
  withdrawalsPerSlot?: number
  /**
   * the closed loop (default): a proposer makes each sealed candidate the chain's next block; false:
   * anvil mines on its own every `blockTime` and the committee's blocks are thrown away
   */
  closedLoop?: boolean
  /** members start parents from their own post-state (default true; false for the bench's comparison) */
  warmState?: boolean
  /** a chain the user runs (an anvil started with `--order fifo`) instead of a new anvil (closed loop only) */
  chainRpc?: string
  /** keep everything here instead of a temporary directory */
  out?: string
  txsPerSlot?: number
  /** blob transactions (one blob each, network form) the load sends per slot (default 0) */
  blobTxsPerSlot?: number
  /**
   * accounts the load signs from (default 1024, and 256 token holders): fewer make the closed loop
   * reuse each sooner, so nonces advance (and now and then a transaction is replaced)
   */
  loadAccounts?: number
  /**
   * Programs to run in place of the atelier CLI for some members (each run as `<entry> node <args>`):
   * how tests run a member with a faulty image. Production testnets leave it unset.
   */
  memberEntries?: Record<number, string>
  /**
   * The chain RPC URL the members pin, given anvil's (default: anvil's own): how tests put a proxy
   * between the members and the chain. The testnet itself (load, follower) talks to anvil directly.
   */
  memberChainRpc?(anvilUrl: string): Promise<string>
  /**
   * every member's private plane behind a LinkProxy (`links`): members dial each other through them,
   * so tests and the chaos run can delay or cut the links between members
   */
  linkProxies?: boolean
  cobuilder?: boolean
  follower?: boolean
  load?: boolean
  tuning?: ConfigJson['tuning']
  logger?: Logger
  onProgress?(p: SlotProgress): void
}

export interface SlotProgress {
  slot: number
  /** where the chain's block for the slot came from (closed loop); absent when anvil mines on its own */
  from?: 'committee' | 'fallback'
  /** blobs proposed with the block, their bundle checked by KZG (closed loop) */
  blobs?: number
  /** the second-EVM check of a committee block: 'equal', 'equal (stateRoot not canonical)' or 'MISMATCH: <field>' */
  secondEvm?: string
  leader: number
  txs: number
  gas: number
  signers: number
  committee: number
  sealLatencyMs?: number
  verified: boolean
  /** the block's hash, 0x-hex */
  blockHash: string
  /** the fee recipient's gain from the block's transactions, wei */
  blockValue: bigint
}
