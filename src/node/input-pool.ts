/**
 * The unsealed pool and the auction bids a member holds (ingestion.ts serves the endpoint that fills
 * it). A transaction leaves the pool once a slot's OpenSlot fixes it as input ("reserved"); when that
 * slot seals it waits for the chain: spent once the candidate's block is the chain's, back in the pool
 * if the chain took another block at that height (a proposer that did not use the candidate), so a
 * sealed block that never makes it on chain does not take its transactions with it. A slot that is
 * abandoned releases them at once. Only a blob transaction whose sidecars are held is offered to a
 * slot. Transactions a member's own gate let in (tx-gate.ts) are ordered by sender (sender-index.ts):
 * one per sender and nonce (a replacement pays 10 % more), a future nonce kept aside until its gap
 * fills, a sender's share bounded, and a full pool makes room by evicting its lowest-paying
 * transaction, never by refusing a better one.
 *
 * Owns InputPool.
 */
import { LRUCache } from 'lru-cache'
import { keccak256 } from '../core/index.ts'
import { MAX_TRANSACTION_BYTES, MAX_TRANSACTIONS, toHex } from '../proto/index.ts'
import { MAX_HELD_PER_SENDER, SenderIndex } from './sender-index.ts'
import { feesOf, TxRefusal } from './tx-gate.ts'
import type { BlobStore } from './blob-store.ts'
import type { PoolTx } from './sender-index.ts'
import type { GatedTx } from './tx-gate.ts'
import type { DecodedTx } from '../core/index.ts'
import type { AuctionBidValue, BundleValue } from '../proto/index.ts'

export const MAX_POOL = 20_000
/** a replacement (same sender and nonce) must raise both fees by this many percent (geth's PriceBump) */
export const PRICE_BUMP_PERCENT = 10n
/** ~32 slots of full blocks: a relay later than that finds its nonce spent at simulation */
const MAX_SPENT = 65_536
/** sealed slots whose block the chain has not shown yet, at most; the oldest is released first */
const MAX_AWAITING_CHAIN = 64

interface AwaitingChain { number: number, hash: string, txs: Map<string, Uint8Array> }

/** A chain head as the pool needs it. */
export interface PoolHead { number: number, hash: string, parentHash: string }

export class InputPool {
  readonly #blobs?: BlobStore
  readonly #pool = new Map<string, Uint8Array>()
  /**
   * hashes already in a sealed candidate: never again (a late relay must not resurrect them); bounded,
   * least recently settled first out
   */
  readonly #spent = new LRUCache<string, true>({ max: MAX_SPENT })
  readonly #reserved = new Map<number, string[]>()
  readonly #bids = new Map<number, BundleValue[]>()
  readonly #winners = new Map<number, BundleValue>()
  /** sealed slot → its block and transactions, until the chain shows that height */
  readonly #awaiting = new Map<number, AwaitingChain>()
  readonly #awaitingHashes = new Set<string>()
  readonly #senders = new SenderIndex()
  /** what the sender index knows of each held transaction, by hash */
  readonly #info = new Map<string, PoolTx>()
  readonly #describe?: (raw: Uint8Array) => DecodedTx | undefined
  readonly #onPromoted?: (raws: Uint8Array[]) => void
  readonly #onGone?: (hash: string) => void

  /**
   * `blobs`: a blob transaction is offered to a slot only while its sidecars are held there;
   * `describe`: decodes a transaction (undefined if it does not), so relayed ones are indexed by sender;
   * `onPromoted`: kept-aside transactions a relayed one let into the pool (this member took them in,
   * so it relays them); `onGone`: a transaction left for good (spent, or gone with its slot), by hash
   * (hex without `0x`), so what was kept for it can go too
   */
  constructor (options: { blobs?: BlobStore, describe?(raw: Uint8Array): DecodedTx | undefined, onPromoted?(raws: Uint8Array[]): void, onGone?(hash: string): void } = {}) {
    this.#blobs = options.blobs
    this.#describe = options.describe
    this.#onPromoted = options.onPromoted
    this.#onGone = options.onGone
  }

  /**
   * A transaction the gate let in: into the pool if its nonce is the sender's next (then any kept-aside
   * successors with it), else kept aside. Returns what entered the pool (to relay), or throws a
   * TxRefusal (known, an underpriced replacement, the sender's or the pool's bound).
   */
  admit (gated: GatedTx): Uint8Array[] {
    const tx = poolTx(gated.decoded)
    const hash = tx.hash
    if (this.#pool.has(hash) || this.#spent.has(hash) || this.#awaitingHashes.has(hash) || this.#isReserved(hash) || this.#senders.queuedAt(tx.sender, tx.nonce)?.hash === hash) {
      throw new TxRefusal('already-known', 'already known')
    }
    const held = this.#senders.heldAt(tx.sender, tx.nonce)
    if (held != null) {
      if (!this.#pool.has(held.hash)) {
        throw new TxRefusal('replacement-underpriced', `replacement transaction underpriced: nonce ${tx.nonce} of ${tx.sender} is in a sealed or open slot already`)
      }
      this.#expectBump(held, tx)
      this.#evict(held)
    }
    const next = this.#senders.next(tx.sender, gated.stateNonce)
    if (tx.nonce > next) {
      const queued = this.#senders.queuedAt(tx.sender, tx.nonce)
      if (queued != null) { this.#expectBump(queued, tx) }
      this.#senders.queue(tx)
      return []
    }
    if (this.#senders.heldCount(tx.sender) >= MAX_HELD_PER_SENDER) {
      throw new TxRefusal('account-limit', `account limit exceeded: ${tx.sender} has ${MAX_HELD_PER_SENDER} transactions in the pool`)
    }
    this.#makeRoom(tx)
    this.#hold(tx)
    return [tx.raw, ...this.#promote(tx)]
  }

  /** Kept-aside successors of `tx` whose gap has closed, moved into the pool; returns them. */
  #promote (tx: PoolTx): Uint8Array[] {
    const promoted: Uint8Array[] = []
    for (let n = tx.nonce + 1n, i = 0; i < MAX_HELD_PER_SENDER && this.#pool.size < MAX_POOL; n++, i++) {
      const successor = this.#senders.unqueue(tx.sender, n)
      if (successor == null) { break }
      this.#hold(successor)
      promoted.push(successor.raw)
    }
    return promoted
  }

  /** Transactions kept aside for a nonce gap to fill. */
  get queued (): number {
    return this.#senders.queued
  }

  #expectBump (old: PoolTx, tx: PoolTx): void {
    const bumped = (v: bigint): bigint => v * (100n + PRICE_BUMP_PERCENT) / 100n
    if (tx.tip < bumped(old.tip) || tx.feeCap < bumped(old.feeCap)) {
      throw new TxRefusal('replacement-underpriced', `replacement transaction underpriced: nonce ${tx.nonce} of ${tx.sender} needs fees ${PRICE_BUMP_PERCENT} % above the held one's (tip ${old.tip}, fee cap ${old.feeCap})`)
    }
  }

  /** A full pool evicts its lowest-paying transaction for a better one, or refuses this one. */
  #makeRoom (tx: PoolTx): void {
    if (this.#pool.size < MAX_POOL) { return }
    let lowest: PoolTx | undefined
    for (const hash of this.#pool.keys()) {
      const info = this.#info.get(hash)
      if (info != null && (lowest == null || info.tip < lowest.tip)) { lowest = info }
    }
    if (lowest == null || lowest.tip >= tx.tip) {
      throw new TxRefusal('pool-full', `transaction underpriced: the pool is full (${MAX_POOL}) and its lowest tip is ${lowest?.tip ?? 'unknown'}`)
    }
    this.#evict(lowest)
  }

  #hold (tx: PoolTx): void {
    this.#pool.set(tx.hash, tx.raw)
    this.#info.set(tx.hash, tx)
    this.#senders.hold(tx)
  }

  #evict (tx: PoolTx): void {
    this.#pool.delete(tx.hash)
    this.#forget(tx.hash)
  }

  /** The transaction left the pool for good (spent, dropped, evicted): its sender's nonce is free. */
  #forget (hash: string): void {
    this.#onGone?.(hash)
    const info = this.#info.get(hash)
    if (info == null) { return }
    this.#info.delete(hash)
    this.#senders.drop(info)
  }

  /** Adds transactions; returns the hashes of the new ones. */
  addTransactions (txs: Uint8Array[]): string[] {
    const added: string[] = []
    const promoted: Uint8Array[] = []
    for (const raw of txs) {
      if (raw.length === 0 || raw.length > MAX_TRANSACTION_BYTES || this.#pool.size >= MAX_POOL) {
        continue
      }
      const hash = toHex(keccak256(raw))
      if (!this.#pool.has(hash) && !this.#spent.has(hash) && !this.#awaitingHashes.has(hash) && !this.#isReserved(hash)) {
        this.#pool.set(hash, raw)
        const d = this.#info.has(hash) ? undefined : this.#describe?.(raw)
        if (d != null) {
          const tx = poolTx(d)
          this.#info.set(hash, tx)
          this.#senders.hold(tx)
          promoted.push(...this.#promote(tx))
        }
        added.push(hash)
      }
    }
    if (promoted.length > 0) { this.#onPromoted?.(promoted) }
    return added
  }

  addBid (bid: AuctionBidValue): void {
    if (bid.winner) {
      this.#winners.set(bid.slot, bid.bundle)
      return
    }
    const list = this.#bids.get(bid.slot) ?? []
    if (list.length < 256) {
      list.push(bid.bundle)
      this.#bids.set(bid.slot, list)
    }
  }

  get size (): number {
    return this.#pool.size
  }

  /** The transactions a leader fixes for a slot (insertion order; core orders them canonically). */
  unsealedFor (): Uint8Array[] {
    const out: Uint8Array[] = []
    for (const raw of this.#pool.values()) {
      if (out.length === MAX_TRANSACTIONS) { break }
      if (this.#servable([raw])) { out.push(raw) }
    }
    return out
  }

  /** The declared winner, else the bid with the most transactions (first bid on a tie); blobs held. */
  auctionWinnerFor (slot: number): BundleValue | undefined {
    const declared = this.#winners.get(slot)
    if (declared != null && this.#servable(declared.txs)) {
      return declared
    }
    const bids = (this.#bids.get(slot) ?? []).filter(b => this.#servable(b.txs))
    return bids.reduce<BundleValue | undefined>((best, b) => best == null || b.txs.length > best.txs.length ? b : best, undefined)
  }

  /** OpenSlot fixed these transactions for `slot`: out of the pool until the slot ends. */
  reserve (slot: number, txs: Uint8Array[]): void {
    const hashes = txs.map(raw => toHex(keccak256(raw)))
    for (const h of hashes) {
      this.#pool.delete(h)
    }
    this.#reserved.set(slot, hashes)
  }

  /**
   * The slot sealed with this body, whoever sealed it: with `block`, its transactions wait for the chain
   * to show that block (onHead); without, they are spent at once.
   */
  settle (slot: number, body: Uint8Array[] = [], block?: { number: number, hash: string }): void {
    const txs = new Map<string, Uint8Array>()
    const inBody = new Set<string>()
    for (const raw of body) {
      const hash = toHex(keccak256(raw))
      inBody.add(hash)
      this.#pool.delete(hash)
      if (block == null) {
        this.#spent.set(hash, true)
        this.#forget(hash)
      } else {
        txs.set(hash, raw)
        this.#awaitingHashes.add(hash)
      }
    }
    if (block != null) {
      this.#awaiting.set(slot, { ...block, txs })
      if (this.#awaiting.size > MAX_AWAITING_CHAIN) {
        const oldest = Math.min(...this.#awaiting.keys())
        this.#resolve(oldest, false)
      }
    }
    // what the slot reserved and its block left out could not run: gone with the slot
    for (const h of this.#reserved.get(slot) ?? []) {
      if (!inBody.has(h)) { this.#forget(h) }
    }
    this.#reserved.delete(slot)
    this.#bids.delete(slot)
    this.#winners.delete(slot)
  }

  /**
   * The chain's head: a sealed block at its height (or its parent's) that is the chain's spends its
   * transactions; one the chain replaced, at or below the head, gives them back to the pool (where a
   * slot's simulation drops any the chain has mined meanwhile).
   */
  onHead (head: PoolHead): void {
    for (const [slot, a] of [...this.#awaiting]) {
      if (a.number > head.number) { continue }
      const onChain = (a.number === head.number && a.hash === head.hash) || (a.number === head.number - 1 && a.hash === head.parentHash)
      this.#resolve(slot, onChain)
    }
  }

  /** Transactions of sealed slots the chain has not shown yet. */
  get awaitingChain (): number {
    return this.#awaitingHashes.size
  }

  #resolve (slot: number, onChain: boolean): void {
    const a = this.#awaiting.get(slot)
    if (a == null) { return }
    this.#awaiting.delete(slot)
    for (const h of a.txs.keys()) { this.#awaitingHashes.delete(h) }
    if (onChain) {
      for (const h of a.txs.keys()) {
        this.#spent.set(h, true)
        this.#forget(h)
      }
    } else {
      this.addTransactions([...a.txs.values()])
    }
  }

  /** The slot ended without a candidate: its transactions may go into a later slot. */
  release (slot: number, txs: Uint8Array[]): void {
    this.#reserved.delete(slot)
    this.addTransactions(txs)
    this.#bids.delete(slot)
    this.#winners.delete(slot)
  }

  /** Why these transactions' blobs could not be served with a block; undefined if they can (or none are blob ones). */
  blobsMissing (txs: Uint8Array[]): string | undefined {
    return this.#blobs?.missing(txs)
  }

  #servable (txs: Uint8Array[]): boolean {
    return this.blobsMissing(txs) == null
  }

  #isReserved (hash: string): boolean {
    for (const list of this.#reserved.values()) {
      if (list.includes(hash)) { return true }
    }
    return false
  }
}

function poolTx (d: DecodedTx): PoolTx {
  const { tip, feeCap } = feesOf(d)
  return { hash: d.hash.replace(/^0x/, ''), raw: d.raw, sender: d.sender, nonce: d.nonce, tip, feeCap }
}
