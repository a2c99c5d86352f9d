/**
 * What flows into a member from upstream: transactions and auction bids from its ingestion endpoint
 * (predecoded on arrival, so the slot's simulation finds them decoded and sender recovery leaves the
 * critical path), into the pool and relayed to the other members; and the one translation the
 * endpoint needs, a Flashbots-style target block number into the beacon slot that builds it.
 *
 * Owns Upstream.
 */
import { rulesAt, txDecoder } from '../../core/index.ts'
import { encodeMessage } from '../../proto/index.ts'
import { serveIngestion } from '../ingestion.ts'
import { TxRelay } from './relay.ts'
import type { SlotClock } from '../../beacon/index.ts'
import type { RpcBlock } from '../../chain/index.ts'
import type { ForkSchedule } from '../../core/index.ts'
import type { AuctionBidValue } from '../../proto/index.ts'
import type { InputPool } from '../ingestion.ts'
import type { Server } from 'node:http'

export interface UpstreamOptions {
  pool: InputPool
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
  #server?: Server

  constructor (options: UpstreamOptions) {
    this.#o = options
    this.#relay = new TxRelay({ publish: async txs => { await options.publishPool(encodeMessage('PoolTransactions', { txs })) } })
  }

  /** Decodes inputs as they arrive (sender recovery included), under the rules in force now. */
  predecode (txs: Uint8Array[]): void {
    const decoder = txDecoder(rulesAt(this.#o.rules(), Math.floor(Date.now() / 1000)))
    for (const raw of txs) {
      decoder.decode(raw)
    }
  }

  /** Adds transactions to the pool and relays the new ones (batched every few ms) to the other members. */
  submitTransactions (txs: Uint8Array[]): string[] {
    this.predecode(txs)
    const added = this.#o.pool.addTransactions(txs)
    if (added.length > 0) {
      this.#relay.push(txs)
    }
    return added
  }

  addBid (bid: AuctionBidValue): void {
    this.predecode(bid.bundle.txs)
    this.#o.pool.addBid(bid)
    void this.#o.publishPool(encodeMessage('AuctionBid', bid)).catch(() => {})
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
      transactions: txs => this.submitTransactions(txs),
      bid: bid => { this.addBid(bid) },
      slotOfBlock: n => this.slotOfBlock(n)
    }, port)
    this.#server = served.server
    return served.port
  }

  async stop (): Promise<void> {
    this.#relay.stop()
    if (this.#server != null) {
      this.#server.closeAllConnections()
      await new Promise(resolve => this.#server?.close(resolve))
    }
  }
}
