/**
 * The member's local JSON-RPC endpoint for upstream inputs: `eth_sendRawTransaction`, `eth_sendBundle`
 * (`{ txs, revertProtected, slot | blockNumber }`) and `atelier_setAuctionWinner` (`{ slot |
 * blockNumber, txs, revertProtected }`); what it takes goes into the pool (input-pool.ts) and is relayed
 * to the other members on the private plane so whoever leads a slot sees the same pool. A blob
 * transaction comes in its network form (EIP-7594: with its blobs, commitments and cell proofs,
 * MAX_NETWORK_TRANSACTION_BYTES at most); what goes on is its canonical form, its sidecars kept beside
 * it (BlobStore). Bids target beacon slots; a Flashbots-style `blockNumber` is turned into the slot that
 * would build that block if no slot is missed on the way (the member's `slotOfBlock`), so `slot` is the
 * precise target.
 */
import { createServer } from 'node:http'
import { keccak256 } from '../core/index.ts'
import { MAX_NETWORK_TRANSACTION_BYTES, MAX_TRANSACTION_BYTES, MAX_TRANSACTIONS, fromHex, toHex } from '../proto/index.ts'
import type { TakenTransaction } from '../core/index.ts'
import type { AuctionBidValue, BlobSidecarValue, BundleValue } from '../proto/index.ts'
import type { Server } from 'node:http'

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
