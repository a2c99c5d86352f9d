/**
 * What flows into a member from upstream: transactions and auction bids from its ingestion endpoint
 * (predecoded on arrival, so the slot's simulation finds them decoded and sender recovery leaves the
 * critical path), through the transaction gate (tx-gate.ts: nothing that could not run in the next
 * block gets further) into the pool and relayed to the other members; blob transactions taken apart
 * into their canonical form and their KZG-checked sidecars, which are kept (BlobStore) and relayed
 * with them; and the one translation the endpoint needs, a Flashbots-style target block number into
 * the beacon slot that builds it.
 *
 * Owns Upstream.
 */
import { rulesAt, txDecoder } from '../../core/index.ts'
import { encodeMessage } from '../../proto/index.ts'
import { serveIngestion } from '../ingestion.ts'
import { KzgChecker } from '../kzg-checker.ts'
import { MAX_WAITING_INGESTION } from '../slot-priority.ts'
import { TxGate, TxRefusal } from '../tx-gate.ts'
import { TxRelay } from './relay.ts'
import type { SlotClock } from '../../beacon/index.ts'
import type { RpcBlock } from '../../chain/index.ts'
import type { ChainRules, ForkSchedule, TakenTransaction } from '../../core/index.ts'
import type { AuctionBidValue, BlobSidecarValue } from '../../proto/index.ts'
import type { BlobStore } from '../blob-store.ts'
import type { InputPool } from '../input-pool.ts'
import type { Logger } from '../log.ts'
import type { SlotPriority } from '../slot-priority.ts'
import type { GateState } from '../tx-gate.ts'
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
  /** the head's verified state, for the gate's nonce and balance checks */
  state(head: RpcBlock): Promise<GateState>
  clock(): SlotClock
  /** a transaction was refused at the gate (for the refusal counter) */
  onRefused?(refusal: TxRefusal): void
  /** the member's slot work, which the gate waits for */
  priority?: SlotPriority
}

export class Upstream {
  readonly #o: UpstreamOptions
  readonly #relay: TxRelay
  readonly #kzg = new KzgChecker()
  readonly #gate: TxGate
  #server?: Server

  constructor (options: UpstreamOptions) {
    this.#o = options
    this.#gate = new TxGate({ rules: options.rules, head: options.head, state: options.state })
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
   * Gates transactions and adds those let through to the pool (a future nonce is kept aside), relaying
   * what entered it: batched every few ms, but a blob transaction at once, in a message of its own with
   * its sidecars. One outcome per transaction, in order: its hash, or the TxRefusal.
   */
  async submitTransactions (taken: TakenTransaction[]): Promise<Array<string | TxRefusal>> {
    const priority = this.#o.priority
    if (priority != null && priority.busy) {
      if (priority.waiting >= MAX_WAITING_INGESTION) {
        const busy = new TxRefusal('busy', `busy: ${priority.waiting} batches wait for the slot being simulated; try again`)
        this.#o.onRefused?.(busy)
        return taken.map(() => busy)
      }
      await priority.idle()
    }
    const gated = await this.#gate.admit(taken.map(t => t.canonical))
    const out: Array<string | TxRefusal> = []
    const relay: Uint8Array[] = []
    for (const [i, g] of gated.entries()) {
      if (g instanceof TxRefusal) {
        this.#o.onRefused?.(g)
        out.push(g)
        continue
      }
      try {
        const added = this.#o.pool.admit(g)
        const t = taken[i]
        if (t.sidecars.length > 0) {
          this.#o.blobs.add(t.sidecars)
          if (added.length > 0) { this.#publishSidecars([t.canonical], t.sidecars) }
          relay.push(...added.slice(1))
        } else {
          relay.push(...added)
        }
        out.push(g.decoded.hash)
      } catch (err) {
        if (!(err instanceof TxRefusal)) { throw err }
        this.#o.onRefused?.(err)
        out.push(err)
      }
    }
    if (relay.length > 0) { this.#relay.push(relay) }
    return out
  }

  /** Relays transactions this member took in and its pool let in later (a nonce gap closed). */
  relay (txs: Uint8Array[]): void {
    this.#relay.push(txs)
  }

  /** Raw transactions from a caller in the same process, taken and gated as ingestion would. */
  async submitRaw (txs: Uint8Array[]): Promise<Array<string | Error>> {
    const taken: Array<TakenTransaction | Error> = []
    for (const raw of txs) {
      try {
        taken.push(await this.take(raw))
      } catch (err) {
        taken.push(err as Error)
      }
    }
    const ok = taken.filter((t): t is TakenTransaction => !(t instanceof Error))
    const outcomes = await this.submitTransactions(ok)
    return taken.map(t => t instanceof Error ? t : outcomes.shift() as string | TxRefusal)
  }

  /**
   * Takes a bid whose every transaction passes the gate (a bundle may hold a sender's consecutive
   * nonces, so only each one's own checks apply); throws the first refusal, naming the transaction.
   */
  async addBid (bid: AuctionBidValue, sidecars: BlobSidecarValue[] = []): Promise<void> {
    await this.#o.priority?.idle()
    const gated = await this.#gate.admit(bid.bundle.txs)
    const refused = gated.findIndex(g => g instanceof TxRefusal)
    if (refused >= 0) {
      const r = gated[refused] as TxRefusal
      const named = new TxRefusal(r.code, `txs[${refused}]: ${r.message}`)
      this.#o.onRefused?.(named)
      throw named
    }
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
      transactions: async txs => this.submitTransactions(txs),
      bid: async (bid, sidecars) => { await this.addBid(bid, sidecars) },
      slotOfBlock: n => this.slotOfBlock(n),
      currentSlot: () => this.#o.clock().current()
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
