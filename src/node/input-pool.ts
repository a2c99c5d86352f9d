/**
 * The unsealed pool a member holds, with its auction bids (auction-book.ts; ingestion.ts serves the
 * endpoint that fills both). A transaction leaves the pool once a slot's OpenSlot fixes it as input
 * ("reserved"); when that slot seals it waits for the chain: spent once the chain's block at that
 * height carries it, back in the pool if that block does not (a proposer that did not use the
 * candidate), so a sealed block that never makes it on chain does not take its transactions with
 * it. A slot that is abandoned releases them at once. One the sealed block left out goes back too —
 * the block was full, the slot was opened twice and the other opening won, or it was invalid on that
 * parent and may not be on the next (a nonce ahead of its gap) — unless this member's own simulation
 * of that very block found that no block can take it; one left out on its merits in MAX_LEFT_OUT
 * sealed slots goes. Only a blob transaction whose sidecars are held is offered to a slot.
 * Transactions a member's own gate let in (tx-gate.ts) are ordered by sender (sender-index.ts): one
 * per sender and nonce (a replacement pays 10 % more), a future nonce kept aside until its gap fills,
 * a sender's share bounded, and a full pool makes room by evicting its lowest-paying transaction,
 * never by refusing a better one.
 *
 * Owns InputPool.
 */
import { LRUCache } from 'lru-cache'
import { keccak256 } from '../core/index.ts'
import { MAX_TRANSACTION_BYTES, MAX_TRANSACTIONS, toHex } from '../proto/index.ts'
import { AuctionBook } from './auction-book.ts'
import { MAX_HELD_PER_SENDER, SenderIndex } from './sender-index.ts'
import { feesOf, TxRefusal } from './tx-gate.ts'
import type { BlobStore } from './blob-store.ts'
import type { PoolTx } from './sender-index.ts'
import type { GatedTx } from './tx-gate.ts'
import type { DecodedTx, ExclusionOutlook } from '../core/index.ts'
import type { AuctionBidValue, BundleValue } from '../proto/index.ts'

export const MAX_POOL = 20_000
/** a replacement (same sender and nonce) must raise both fees by this many percent (geth's PriceBump) */
export const PRICE_BUMP_PERCENT = 10n
/** ~32 slots of full blocks: a relay later than that finds its nonce spent at simulation */
const MAX_SPENT = 65_536
/** sealed slots whose block the chain has not shown yet, at most; the oldest is released first */
const MAX_AWAITING_CHAIN = 64
/** senders whose chain nonce the pool remembers from the blocks it saw spend their transactions */
const MAX_SENDERS_SPENT = 16_384
/**
 * sealed slots a transaction may be left out of as invalid on their parents before it goes (a nonce
 * gap a sealed block the chain did not take leaves closes within a slot or two); for want of room
 * in the block it waits as long as the pool keeps it
 */
export const MAX_LEFT_OUT = 8

interface AwaitingChain { number: number, hash: string, txs: Map<string, Uint8Array> }

/** A chain head as the pool needs it. */
export interface PoolHead {
  number: number
  hash: string
  parentHash: string
  /** the hashes of the block's transactions (`0x`, as `eth_getBlockByNumber` lists them), when known */
  transactions?: string[]
}

export class InputPool {
  readonly #blobs?: BlobStore
  readonly #pool = new Map<string, Uint8Array>()
  /**
   * hashes already in a sealed candidate: never again (a late relay must not resurrect them); bounded,
   * least recently settled first out
   */
  readonly #spent = new LRUCache<string, true>({ max: MAX_SPENT })
  /** slot → what its OpenSlot fixed as input, by hash */
  readonly #reserved = new Map<number, Map<string, Uint8Array>>()
  /** sealed slots each held transaction was left out of as invalid on their parents */
  readonly #leftOut = new Map<string, number>()
  /**
   * each sender's next nonce as the chain's blocks spent them here: a submission checked against an
   * older head (the gate waits while a slot simulates, and the head can move meanwhile) would otherwise
   * find its predecessor neither held nor on its state, and wait aside for good
   */
  readonly #chainNext = new LRUCache<string, bigint>({ max: MAX_SENDERS_SPENT })
  readonly #auction = new AuctionBook()
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
    // counted, not enforced: below it the gate's own state decides (a reorg can take a block back)
    const chainNext = this.#chainNext.get(tx.sender) ?? 0n
    const next = this.#senders.next(tx.sender, gated.stateNonce > chainNext ? gated.stateNonce : chainNext)
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

  /** A block of the chain carries the transaction: never again, and its sender's nonce moved past it. */
  #spentOnChain (hash: string): void {
    this.#spent.set(hash, true)
    const info = this.#info.get(hash)
    if (info != null && (this.#chainNext.get(info.sender) ?? 0n) <= info.nonce) { this.#chainNext.set(info.sender, info.nonce + 1n) }
    this.#forget(hash)
  }

  /** The transaction left the pool for good (spent, dropped, evicted): its sender's nonce is free. */
  #forget (hash: string): void {
    this.#onGone?.(hash)
    this.#leftOut.delete(hash)
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
      if (raw.length === 0 || raw.length > MAX_TRANSACTION_BYTES) {
        continue
      }
      const hash = toHex(keccak256(raw))
      if (this.#pool.size >= MAX_POOL) {
        // one coming back from a slot or a block the chain did not take, with no room left: gone
        if (this.#info.has(hash)) { this.#forget(hash) }
        continue
      }
      if (!this.#pool.has(hash) && !this.#spent.has(hash) && !this.#awaitingHashes.has(hash) && !this.#isReserved(hash)) {
        this.#pool.set(hash, raw)
        const tx = this.#info.has(hash) ? undefined : this.#learn(hash, raw)
        if (tx != null) { promoted.push(...this.#promote(tx)) }
        added.push(hash)
      }
    }
    if (promoted.length > 0) { this.#onPromoted?.(promoted) }
    return added
  }

  addBid (bid: AuctionBidValue): void {
    this.#auction.add(bid)
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
    return this.#auction.winnerFor(slot, txs => this.#servable(txs))
  }

  /** OpenSlot fixed these transactions for `slot`: out of the pool until the slot ends. */
  reserve (slot: number, txs: Uint8Array[]): void {
    const reserved = new Map(txs.map(raw => [toHex(keccak256(raw)), raw]))
    for (const h of reserved.keys()) {
      this.#pool.delete(h)
    }
    this.#reserved.set(slot, reserved)
    this.#advance(reserved)
  }

  /**
   * A slot or a block fixed these transactions, whether this pool held them or not (a relay can come
   * after the opening that carries it, and is then not taken): each is held by its sender's nonce, and
   * the successors kept aside behind it can follow it now. Without this a transaction whose
   * predecessor only ever reached this member inside an opening would wait aside for good.
   */
  #advance (txs: ReadonlyMap<string, Uint8Array>): void {
    const promoted: Uint8Array[] = []
    for (const [hash, raw] of txs) {
      const tx = this.#info.get(hash) ?? this.#learn(hash, raw)
      if (tx != null) { promoted.push(...this.#promote(tx)) }
    }
    if (promoted.length > 0) { this.#onPromoted?.(promoted) }
  }

  /** A transaction the sender index did not know, held by its sender and nonce; undefined if it does not decode. */
  #learn (hash: string, raw: Uint8Array): PoolTx | undefined {
    const d = this.#describe?.(raw)
    if (d == null) { return undefined }
    const tx = poolTx(d)
    this.#info.set(hash, tx)
    this.#senders.hold(tx)
    return tx
  }

  /**
   * The slot sealed with this body, whoever sealed it: with `block`, its transactions wait for the chain
   * to show that block (onHead); without, they are spent at once. `leftOut` (by hash, hex without
   * `0x`): why this member's simulation of that very block left transactions out, if it made it.
   */
  settle (slot: number, body: Uint8Array[] = [], block?: { number: number, hash: string }, leftOut?: ReadonlyMap<string, ExclusionOutlook>): void {
    const txs = new Map<string, Uint8Array>()
    const inBody = new Map(body.map(raw => [toHex(keccak256(raw)), raw]))
    this.#advance(inBody)
    for (const [hash, raw] of inBody) {
      this.#pool.delete(hash)
      if (block == null) {
        this.#spentOnChain(hash)
      } else {
        txs.set(hash, raw)
        this.#awaitingHashes.add(hash)
      }
    }
    if (block != null) {
      this.#awaiting.set(slot, { ...block, txs })
      if (this.#awaiting.size > MAX_AWAITING_CHAIN) {
        const oldest = Math.min(...this.#awaiting.keys())
        this.#resolve(oldest, () => false)
      }
    }
    const back: Uint8Array[] = []
    for (const [h, raw] of this.#reserved.get(slot) ?? []) {
      if (inBody.has(h)) { continue }
      const outlook = leftOut?.get(h)
      const times = outlook === 'state' || (leftOut != null && outlook == null) ? (this.#leftOut.get(h) ?? 0) + 1 : 0
      if (outlook === 'never' || times >= MAX_LEFT_OUT) {
        this.#forget(h)
        continue
      }
      if (times > 0) { this.#leftOut.set(h, times) }
      back.push(raw)
    }
    this.#reserved.delete(slot)
    this.addTransactions(back)
    this.#auction.drop(slot)
  }

  /**
   * The chain's head: a sealed block at its height (or its parent's) that is the chain's spends its
   * transactions; one the chain replaced, at or below the head, gives them back to the pool (where a
   * slot's simulation drops any the chain has mined meanwhile).
   */
  onHead (head: PoolHead): void {
    // by the transactions the chain's block carries, where they are listed: a chain whose headers
    // differ from the candidate's (anvil's state root: every block hash differs) still carries them
    const listed = Array.isArray(head.transactions) && head.transactions.every(h => typeof h === 'string')
    const carried = listed ? new Set(head.transactions?.map(h => h.replace(/^0x/, '').toLowerCase())) : undefined
    for (const [slot, a] of [...this.#awaiting]) {
      if (a.number > head.number) { continue }
      if (a.number === head.number && carried != null) {
        this.#resolve(slot, h => carried.has(h))
        continue
      }
      const onChain = (a.number === head.number && a.hash === head.hash) || (a.number === head.number - 1 && a.hash === head.parentHash)
      this.#resolve(slot, () => onChain)
    }
  }

  /** Transactions of sealed slots the chain has not shown yet. */
  get awaitingChain (): number {
    return this.#awaitingHashes.size
  }

  /** The chain showed the slot's height: what it carries is spent, the rest back in the pool. */
  #resolve (slot: number, onChain: (hash: string) => boolean): void {
    const a = this.#awaiting.get(slot)
    if (a == null) { return }
    this.#awaiting.delete(slot)
    const back: Uint8Array[] = []
    for (const [h, raw] of a.txs) {
      this.#awaitingHashes.delete(h)
      if (onChain(h)) { this.#spentOnChain(h) } else { back.push(raw) }
    }
    this.addTransactions(back)
  }

  /** The slot ended without a candidate: its transactions may go into a later slot. */
  release (slot: number, txs: Uint8Array[]): void {
    this.#reserved.delete(slot)
    this.addTransactions(txs)
    this.#auction.drop(slot)
  }

  /** Why these transactions' blobs could not be served with a block; undefined if they can (or none are blob ones). */
  blobsMissing (txs: Uint8Array[]): string | undefined {
    return this.#blobs?.missing(txs)
  }

  #servable (txs: Uint8Array[]): boolean {
    return this.blobsMissing(txs) == null
  }

  #isReserved (hash: string): boolean {
    for (const reserved of this.#reserved.values()) {
      if (reserved.has(hash)) { return true }
    }
    return false
  }
}

function poolTx (d: DecodedTx): PoolTx {
  const { tip, feeCap } = feesOf(d)
  return { hash: d.hash.replace(/^0x/, ''), raw: d.raw, sender: d.sender, nonce: d.nonce, tip, feeCap }
}
