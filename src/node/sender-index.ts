/**
 * The pool's view by sender, as geth's pool keeps it: which nonces of each sender it holds (offered to
 * slots, reserved by one, or waiting for the chain) and the future ones it keeps aside until the gap
 * below them fills (never offered, never relayed). Both bounded per sender and the future ones in
 * total, so one sender, or many unfunded ones, cannot fill the pool.
 *
 * Owns SenderIndex.
 */
import { TxRefusal } from './tx-gate.ts'

/** a sender's transactions held at most (geth's AccountSlots is 16, but geth lends more while the pool has room) */
export const MAX_HELD_PER_SENDER = 64
/** future transactions (a nonce gap below them) kept per sender, and in all (geth's AccountQueue, GlobalQueue) */
export const MAX_QUEUED_PER_SENDER = 64
export const MAX_QUEUED = 1024

export interface PoolTx {
  hash: string
  raw: Uint8Array
  sender: string
  nonce: bigint
  /** the most it pays a block producer per gas (its priority fee, or gas price) */
  tip: bigint
  feeCap: bigint
}

export class SenderIndex {
  readonly #held = new Map<string, Map<bigint, PoolTx>>()
  readonly #queued = new Map<string, Map<bigint, PoolTx>>()
  #queuedCount = 0

  hold (tx: PoolTx): void {
    let nonces = this.#held.get(tx.sender)
    if (nonces == null) {
      nonces = new Map()
      this.#held.set(tx.sender, nonces)
    }
    nonces.set(tx.nonce, tx)
  }

  drop (tx: PoolTx): void {
    const nonces = this.#held.get(tx.sender)
    if (nonces?.get(tx.nonce)?.hash !== tx.hash) { return }
    nonces.delete(tx.nonce)
    if (nonces.size === 0) { this.#held.delete(tx.sender) }
  }

  heldAt (sender: string, nonce: bigint): PoolTx | undefined {
    return this.#held.get(sender)?.get(nonce)
  }

  heldCount (sender: string): number {
    return this.#held.get(sender)?.size ?? 0
  }

  /** The sender's next nonce: the first one from its state nonce on that is not held. */
  next (sender: string, stateNonce: bigint): bigint {
    const nonces = this.#held.get(sender)
    let n = stateNonce
    while (nonces?.has(n) === true) { n++ }
    return n
  }

  /** Keeps a future transaction aside; refuses it if its sender's or the pool's queue is full. */
  queue (tx: PoolTx): void {
    const mine = this.#queued.get(tx.sender) ?? new Map<bigint, PoolTx>()
    const replacing = mine.has(tx.nonce)
    if (!replacing && mine.size >= MAX_QUEUED_PER_SENDER) {
      throw new TxRefusal('account-limit', `account limit exceeded: ${tx.sender} has ${mine.size} transactions waiting for a nonce gap to fill`)
    }
    if (!replacing && this.#queuedCount >= MAX_QUEUED) {
      throw new TxRefusal('pool-full', `txpool is full: ${MAX_QUEUED} future transactions wait already`)
    }
    if (!replacing) { this.#queuedCount++ }
    mine.set(tx.nonce, tx)
    this.#queued.set(tx.sender, mine)
  }

  queuedAt (sender: string, nonce: bigint): PoolTx | undefined {
    return this.#queued.get(sender)?.get(nonce)
  }

  /** Takes the queued transaction at this nonce out of the queue (its gap has filled). */
  unqueue (sender: string, nonce: bigint): PoolTx | undefined {
    const mine = this.#queued.get(sender)
    const tx = mine?.get(nonce)
    if (mine == null || tx == null) { return undefined }
    mine.delete(nonce)
    this.#queuedCount--
    if (mine.size === 0) { this.#queued.delete(sender) }
    return tx
  }

  get queued (): number {
    return this.#queuedCount
  }
}
