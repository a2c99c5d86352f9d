/**
 * The unsealed pool and the auction bids a member holds (ingestion.ts serves the endpoint that fills
 * it). A transaction leaves the pool once a slot's OpenSlot fixes it as input ("reserved"); when that
 * slot seals it waits for the chain: spent once the candidate's block is the chain's, back in the pool
 * if the chain took another block at that height (a proposer that did not use the candidate), so a
 * sealed block that never makes it on chain does not take its transactions with it. A slot that is
 * abandoned releases them at once. Only a blob transaction whose sidecars are held is offered to a
 * slot.
 *
 * Owns InputPool.
 */
import { LRUCache } from 'lru-cache'
import { keccak256 } from '../core/index.ts'
import { MAX_TRANSACTION_BYTES, MAX_TRANSACTIONS, toHex } from '../proto/index.ts'
import type { BlobStore } from './blob-store.ts'
import type { AuctionBidValue, BundleValue } from '../proto/index.ts'

export const MAX_POOL = 20_000
const MAX_SPENT = 200_000
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

  /** `blobs`: a blob transaction is offered to a slot only while its sidecars are held there */
  constructor (options: { blobs?: BlobStore } = {}) {
    this.#blobs = options.blobs
  }

  /** Adds transactions; returns the hashes of the new ones. */
  addTransactions (txs: Uint8Array[]): string[] {
    const added: string[] = []
    for (const raw of txs) {
      if (raw.length === 0 || raw.length > MAX_TRANSACTION_BYTES || this.#pool.size >= MAX_POOL) {
        continue
      }
      const hash = toHex(keccak256(raw))
      if (!this.#pool.has(hash) && !this.#spent.has(hash) && !this.#awaitingHashes.has(hash) && !this.#isReserved(hash)) {
        this.#pool.set(hash, raw)
        added.push(hash)
      }
    }
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
    for (const raw of body) {
      const hash = toHex(keccak256(raw))
      this.#pool.delete(hash)
      if (block == null) {
        this.#spent.set(hash, true)
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
      for (const h of a.txs.keys()) { this.#spent.set(h, true) }
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
