/**
 * Upstream inputs: the unsealed pool and auction bids. A local JSON-RPC endpoint takes
 * `eth_sendRawTransaction`, `eth_sendBundle` (`{ txs, revertProtected, slot | blockNumber }`) and
 * `atelier_setAuctionWinner` (`{ slot | blockNumber, txs, revertProtected }`); accepted inputs are
 * relayed to the other members on the private plane so whoever leads a slot sees the same pool.
 * A blob transaction comes in its network form (EIP-7594: with its blobs, commitments and cell
 * proofs, MAX_NETWORK_TRANSACTION_BYTES at most); what enters the pool is its canonical form, its
 * sidecars kept beside it (BlobStore), and only a blob transaction whose sidecars are held is offered
 * to a slot.
 * Bids target beacon slots; a Flashbots-style `blockNumber` is turned into the slot that would build
 * that block if no slot is missed on the way (the member's `slotOfBlock`), so `slot` is the precise
 * target.
 *
 * A transaction leaves the pool once a slot's OpenSlot fixes it as input ("reserved"); when that
 * slot seals it waits for the chain: spent once the candidate's block is the chain's, back in the pool
 * if the chain took another block at that height (a proposer that did not use the candidate), so a
 * sealed block that never makes it on chain does not take its transactions with it. A slot that is
 * abandoned releases them at once.
 */
import { createServer } from 'node:http'
import { LRUCache } from 'lru-cache'
import { keccak256 } from '../core/index.ts'
import { MAX_NETWORK_TRANSACTION_BYTES, MAX_TRANSACTION_BYTES, MAX_TRANSACTIONS, fromHex, toHex } from '../proto/index.ts'
import type { BlobStore } from './blob-store.ts'
import type { TakenTransaction } from '../core/index.ts'
import type { AuctionBidValue, BlobSidecarValue, BundleValue } from '../proto/index.ts'
import type { Server } from 'node:http'

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

export interface IngestionHandlers {
  /** a transaction as submitted, in its canonical form and its checked sidecars; throws (rejects) with the reason if refused */
  take(raw: Uint8Array): TakenTransaction | Promise<TakenTransaction>
  transactions(txs: TakenTransaction[]): string[]
  /** `sidecars`: those of the bundle's blob transactions */
  bid(bid: AuctionBidValue, sidecars: BlobSidecarValue[]): void
  /** the slot that builds block `blockNumber` if none is missed; throws with the reason if none can */
  slotOfBlock(blockNumber: number): number
}

class RpcFailure extends Error {
  readonly code: number

  constructor (code: number, message: string) {
    super(message)
    this.code = code
  }
}

function bytesParam (v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(v)) {
    throw new RpcFailure(-32602, `${what}: expected 0x-prefixed hex bytes`)
  }
  return fromHex(v)
}

/** A submitted transaction, bounded (its network form may carry six blobs) and taken apart. */
async function transactionParam (v: unknown, what: string, take: IngestionHandlers['take']): Promise<TakenTransaction> {
  if (typeof v === 'string' && v.length > 2 + 2 * MAX_NETWORK_TRANSACTION_BYTES) {
    throw new RpcFailure(-32602, `${what}: over ${MAX_NETWORK_TRANSACTION_BYTES} bytes`)
  }
  const raw = bytesParam(v, what)
  let taken: TakenTransaction
  try {
    taken = await take(raw)
  } catch (err) {
    throw new RpcFailure(-32602, `${what}: ${(err as Error).message}`)
  }
  if (taken.canonical.length > MAX_TRANSACTION_BYTES) {
    throw new RpcFailure(-32602, `${what}: ${taken.canonical.length} bytes, over the ${MAX_TRANSACTION_BYTES} a transaction may have`)
  }
  return taken
}

function quantityParam (v: unknown): number {
  let n: number
  try {
    n = typeof v === 'string' ? Number(BigInt(v)) : Number(v)
  } catch {
    return Number.NaN // not a quantity: BigInt throws on anything else
  }
  return Number.isSafeInteger(n) && n >= 0 ? n : Number.NaN
}

async function bundleParam (p: unknown, handlers: IngestionHandlers): Promise<{ slot: number, bundle: BundleValue, sidecars: BlobSidecarValue[] }> {
  const o = p as { txs?: unknown, revertProtected?: unknown, blockNumber?: unknown, slot?: unknown }
  if (o == null || !Array.isArray(o.txs) || o.txs.length === 0 || o.txs.length > MAX_TRANSACTIONS) {
    throw new RpcFailure(-32602, 'bundle: expected { txs: [0x…], revertProtected?: bool, slot | blockNumber }')
  }
  let slot: number
  if (o.slot != null) {
    slot = quantityParam(o.slot)
  } else {
    const block = quantityParam(o.blockNumber)
    if (Number.isNaN(block)) {
      throw new RpcFailure(-32602, 'bundle: expected a slot or a blockNumber (a non-negative quantity)')
    }
    try {
      slot = handlers.slotOfBlock(block)
    } catch (err) {
      throw new RpcFailure(-32602, `bundle: ${(err as Error).message}`)
    }
  }
  if (Number.isNaN(slot)) {
    throw new RpcFailure(-32602, 'bundle: expected a slot or a blockNumber (a non-negative quantity)')
  }
  const taken: TakenTransaction[] = []
  for (const [i, t] of o.txs.entries()) { taken.push(await transactionParam(t, `txs[${i}]`, handlers.take)) }
  return { slot, bundle: { txs: taken.map(t => t.canonical), revertProtected: o.revertProtected === true }, sidecars: taken.flatMap(t => t.sidecars) }
}

/** The member's local JSON-RPC endpoint for upstream services. Loopback unless told otherwise. */
export async function serveIngestion (handlers: IngestionHandlers, port: number, host = '127.0.0.1'): Promise<{ server: Server, port: number }> {
  const call = async (method: string, params: unknown[]): Promise<unknown> => {
    switch (method) {
      case 'eth_sendRawTransaction': {
        const taken = await transactionParam(params[0], 'transaction', handlers.take)
        handlers.transactions([taken])
        return `0x${toHex(keccak256(taken.canonical))}`
      }
      case 'eth_sendBundle': {
        const { slot, bundle, sidecars } = await bundleParam(params[0], handlers)
        handlers.bid({ slot, bundle, winner: false }, sidecars)
        return { bundleHash: `0x${toHex(keccak256(Buffer.concat(bundle.txs)))}` }
      }
      case 'atelier_setAuctionWinner': {
        const { slot, bundle, sidecars } = await bundleParam(params[0], handlers)
        handlers.bid({ slot, bundle, winner: true }, sidecars)
        return true
      }
      default:
        throw new RpcFailure(-32601, `method ${method} not found`)
    }
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > 16 * 1024 * 1024) {
        req.destroy()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => {
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }))
        return
      }
      const one = async (r: { id?: unknown, method?: unknown, params?: unknown }): Promise<unknown> => {
        try {
          return { jsonrpc: '2.0', id: r?.id ?? null, result: await call(String(r?.method), Array.isArray(r?.params) ? r.params : []) }
        } catch (err) {
          const code = err instanceof RpcFailure ? err.code : -32603
          return { jsonrpc: '2.0', id: r?.id ?? null, error: { code, message: (err as Error).message } }
        }
      }
      // a batch's calls in order: a bundle after a transaction sees the pool that transaction left
      void (async () => {
        let reply: unknown
        if (Array.isArray(body)) {
          const replies: unknown[] = []
          for (const r of body.slice(0, MAX_TRANSACTIONS)) { replies.push(await one(r)) }
          reply = replies
        } else {
          reply = await one(body as never)
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply))
      })()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { resolve() })
  })
  return { server, port: (server.address() as { port: number }).port }
}
