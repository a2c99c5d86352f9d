/**
 * Upstream inputs: the unsealed pool and auction bids. A local JSON-RPC endpoint takes
 * `eth_sendRawTransaction`, `eth_sendBundle` (`{ txs, revertProtected, slot | blockNumber }`) and
 * `atelier_setAuctionWinner` (`{ slot | blockNumber, txs, revertProtected }`); accepted inputs are
 * relayed to the other members on the private plane so whoever leads a slot sees the same pool.
 * Bids target beacon slots; a Flashbots-style `blockNumber` is turned into the slot that would build
 * that block if no slot is missed on the way (the member's `slotOfBlock`), so `slot` is the precise
 * target.
 *
 * A transaction leaves the pool once a slot's OpenSlot fixes it as input ("reserved"); it is dropped
 * when that slot seals and released when the slot is abandoned, so it lands in at most one candidate.
 */
import { createServer } from 'node:http'
import { LRUCache } from 'lru-cache'
import { keccak256 } from '../core/index.ts'
import { MAX_TRANSACTION_BYTES, MAX_TRANSACTIONS, fromHex, toHex } from '../proto/index.ts'
import type { AuctionBidValue, BundleValue } from '../proto/index.ts'
import type { Server } from 'node:http'

export const MAX_POOL = 20_000
const MAX_SPENT = 200_000

export class InputPool {
  readonly #pool = new Map<string, Uint8Array>()
  /**
   * hashes already in a sealed candidate: never again (a late relay must not resurrect them); bounded,
   * least recently settled first out
   */
  readonly #spent = new LRUCache<string, true>({ max: MAX_SPENT })
  readonly #reserved = new Map<number, string[]>()
  readonly #bids = new Map<number, BundleValue[]>()
  readonly #winners = new Map<number, BundleValue>()

  /** Adds transactions; returns the hashes of the new ones. */
  addTransactions (txs: Uint8Array[]): string[] {
    const added: string[] = []
    for (const raw of txs) {
      if (raw.length === 0 || raw.length > MAX_TRANSACTION_BYTES || this.#pool.size >= MAX_POOL) {
        continue
      }
      const hash = toHex(keccak256(raw))
      if (!this.#pool.has(hash) && !this.#spent.has(hash) && !this.#isReserved(hash)) {
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
    return [...this.#pool.values()].slice(0, MAX_TRANSACTIONS)
  }

  /** The declared winner, else the bid with the most transactions (first bid on a tie). */
  auctionWinnerFor (slot: number): BundleValue | undefined {
    const declared = this.#winners.get(slot)
    if (declared != null) {
      return declared
    }
    const bids = this.#bids.get(slot) ?? []
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

  /** The slot sealed with this body: its transactions are spent, whoever sealed it. */
  settle (slot: number, body: Uint8Array[] = []): void {
    for (const raw of body) {
      const hash = toHex(keccak256(raw))
      this.#pool.delete(hash)
      this.#spent.set(hash, true)
    }
    this.#reserved.delete(slot)
    this.#bids.delete(slot)
    this.#winners.delete(slot)
  }

  /** The slot ended without a candidate: its transactions may go into a later slot. */
  release (slot: number, txs: Uint8Array[]): void {
    this.#reserved.delete(slot)
    this.addTransactions(txs)
    this.#bids.delete(slot)
    this.#winners.delete(slot)
  }

  #isReserved (hash: string): boolean {
    for (const list of this.#reserved.values()) {
      if (list.includes(hash)) { return true }
    }
    return false
  }
}

export interface IngestionHandlers {
  transactions(txs: Uint8Array[]): string[]
  bid(bid: AuctionBidValue): void
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

function quantityParam (v: unknown): number {
  let n: number
  try {
    n = typeof v === 'string' ? Number(BigInt(v)) : Number(v)
  } catch {
    return Number.NaN // not a quantity: BigInt throws on anything else
  }
  return Number.isSafeInteger(n) && n >= 0 ? n : Number.NaN
}

function bundleParam (p: unknown, slotOfBlock: IngestionHandlers['slotOfBlock']): { slot: number, bundle: BundleValue } {
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
      slot = slotOfBlock(block)
    } catch (err) {
      throw new RpcFailure(-32602, `bundle: ${(err as Error).message}`)
    }
  }
  if (Number.isNaN(slot)) {
    throw new RpcFailure(-32602, 'bundle: expected a slot or a blockNumber (a non-negative quantity)')
  }
  return { slot, bundle: { txs: o.txs.map((t, i) => bytesParam(t, `txs[${i}]`)), revertProtected: o.revertProtected === true } }
}

/** The member's local JSON-RPC endpoint for upstream services. Loopback unless told otherwise. */
export async function serveIngestion (handlers: IngestionHandlers, port: number, host = '127.0.0.1'): Promise<{ server: Server, port: number }> {
  const call = (method: string, params: unknown[]): unknown => {
    switch (method) {
      case 'eth_sendRawTransaction': {
        const raw = bytesParam(params[0], 'transaction')
        handlers.transactions([raw])
        return `0x${toHex(keccak256(raw))}`
      }
      case 'eth_sendBundle': {
        const { slot, bundle } = bundleParam(params[0], handlers.slotOfBlock)
        handlers.bid({ slot, bundle, winner: false })
        return { bundleHash: `0x${toHex(keccak256(Buffer.concat(bundle.txs)))}` }
      }
      case 'atelier_setAuctionWinner': {
        const { slot, bundle } = bundleParam(params[0], handlers.slotOfBlock)
        handlers.bid({ slot, bundle, winner: true })
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
      const one = (r: { id?: unknown, method?: unknown, params?: unknown }): unknown => {
        try {
          return { jsonrpc: '2.0', id: r?.id ?? null, result: call(String(r?.method), Array.isArray(r?.params) ? r.params : []) }
        } catch (err) {
          const code = err instanceof RpcFailure ? err.code : -32603
          return { jsonrpc: '2.0', id: r?.id ?? null, error: { code, message: (err as Error).message } }
        }
      }
      const reply = Array.isArray(body) ? body.slice(0, MAX_TRANSACTIONS).map(one) : one(body as never)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { resolve() })
  })
  return { server, port: (server.address() as { port: number }).port }
}
