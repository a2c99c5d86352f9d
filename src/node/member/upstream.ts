/**
 * What flows into a member from upstream: transactions and auction bids from its ingestion endpoint
 * (predecoded on arrival, so the slot's simulation finds them decoded and sender recovery leaves the
 * critical path), into the pool and relayed to the other members; blob transactions taken apart
 * into their canonical form and their KZG-checked sidecars, which are kept (BlobStore) and relayed
 * with them; and the one translation the endpoint needs, a Flashbots-style target block number into
 * the beacon slot that builds it.
 *
 * Owns Upstream.
 */
import { rulesAt, takeTransaction, txDecoder } from '../../core/index.ts'
import { encodeMessage } from '../../proto/index.ts'
import { serveIngestion } from '../ingestion.ts'
import { KzgChecker } from '../kzg-checker.ts'
import { TxRelay } from './relay.ts'
import type { SlotClock } from '../../beacon/index.ts'
import type { RpcBlock } from '../../chain/index.ts'
import type { ChainRules, ForkSchedule, TakenTransaction } from '../../core/index.ts'
import type { AuctionBidValue, BlobSidecarValue } from '../../proto/index.ts'
import type { BlobStore } from '../blob-store.ts'
import type { InputPool } from '../input-pool.ts'
import type { Logger } from '../log.ts'
import type { Server } from 'node:http'

export interface UpstreamOptions {
  pool: InputPool
  blobs: BlobStore
  log: Logger
  /** the chain's rules: inputs decode under the fork in force when they arrive */
  rules(): ForkSchedule
  /** gossips bytes on the private pool topic */
  publishPool(bytes: Uint8Array): Promise<void>
  /** the chain's head as the member last saw it */
  head(): RpcBlock | undefined
  clock(): SlotClock
}

export class Upstream {
  readonly #o: UpstreamOptions
  readonly #relay: TxRelay
  readonly #kzg = new KzgChecker()
  #server?: Server

  constructor (options: UpstreamOptions) {
    this.#o = options
    this.#relay = new TxRelay({ publish: async txs => { await options.publishPool(encodeMessage('PoolTransactions', { txs, sidecars: [] })) } })
  }

  #rulesNow (): ChainRules {
    return rulesAt(this.#o.rules(), Math.floor(Date.now() / 1000))
  }

  /** Decodes inputs as they arrive (sender recovery included), under the rules in force now. */
  predecode (txs: Uint8Array[]): void {
    const decoder = txDecoder(this.#rulesNow())
    for (const raw of txs) {
      decoder.decode(raw)
    }
  }

  /**
   * A transaction as a user submits it (a blob one in its network form, checked on the KZG worker);
   * rejects with the reason if refused.
   */
  async take (raw: Uint8Array): Promise<TakenTransaction> {
    return this.#kzg.take(raw, this.#rulesNow())
  }

  /**
   * Adds transactions to the pool and relays the new ones to the other members: batched every few
   * ms, but a blob transaction at once, in a message of its own with its sidecars.
   */
  submitTransactions (taken: TakenTransaction[]): string[] {
    const txs = taken.map(t => t.canonical)
    this.predecode(txs)
    for (const t of taken) { this.#o.blobs.add(t.sidecars) }
    const added = this.#o.pool.addTransactions(txs)
    if (added.length > 0) {
      this.#relay.push(taken.filter(t => t.sidecars.length === 0).map(t => t.canonical))
      for (const t of taken.filter(t => t.sidecars.length > 0)) { this.#publishSidecars([t.canonical], t.sidecars) }
    }
    return added
  }

  /**
   * Raw transactions from a caller in the same process: each taken as ingestion would, but on the
   * caller's thread; refused ones logged and left out.
   */
  submitRaw (txs: Uint8Array[]): string[] {
    const taken: TakenTransaction[] = []
    for (const raw of txs) {
      try {
        taken.push(takeTransaction(raw, this.#rulesNow()))
      } catch (err) {
        this.#o.log.warn('transaction-refused', { message: (err as Error).message })
      }
    }
    return this.submitTransactions(taken)
  }

  addBid (bid: AuctionBidValue, sidecars: BlobSidecarValue[] = []): void {
    this.predecode(bid.bundle.txs)
    this.#o.blobs.add(sidecars)
    this.#o.pool.addBid(bid)
    if (sidecars.length > 0) { this.#publishSidecars([], sidecars) }
    void this.#o.publishPool(encodeMessage('AuctionBid', bid)).catch(() => {})
  }

  #publishSidecars (txs: Uint8Array[], sidecars: BlobSidecarValue[]): void {
    void this.#o.publishPool(encodeMessage('PoolTransactions', { txs, sidecars })).catch(err => {
      this.#o.log.warn('blob-relay-failed', { blobs: sidecars.length, message: (err as Error).message })
    })
  }

  /** The slot that builds block `n` if no slot is missed from here: the next slot builds head + 1. */
  slotOfBlock (n: number): number {
    const head = this.#o.head()
    if (head == null) { throw new Error('the chain\'s head is not known yet: give a slot') }
    const headNumber = Number(BigInt(head.number))
    if (n <= headNumber) { throw new Error(`block ${n} is already on chain (the head is ${headNumber})`) }
    return this.#o.clock().current() + (n - headNumber)
  }

  /** Serves the ingestion JSON-RPC on 127.0.0.1:`port`; returns the port taken. */
  async serve (port: number): Promise<number> {
    const served = await serveIngestion({
      take: async raw => this.take(raw),
      transactions: txs => this.submitTransactions(txs),
      bid: (bid, sidecars) => { this.addBid(bid, sidecars) },
      slotOfBlock: n => this.slotOfBlock(n)
    }, port)
    this.#server = served.server
    return served.port
  }

  async stop (): Promise<void> {
    this.#relay.stop()
    await this.#kzg.stop()
    if (this.#server != null) {
      this.#server.closeAllConnections()
      await new Promise(resolve => this.#server?.close(resolve))
    }
  }
}
