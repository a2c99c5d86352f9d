/**
 * The member's local JSON-RPC endpoint for upstream inputs: `eth_sendRawTransaction`, `eth_sendBundle`
 * (`{ txs, revertProtected, slot | blockNumber }`) and `atelier_setAuctionWinner` (`{ slot |
 * blockNumber, txs, revertProtected }`); what it takes goes into the pool (input-pool.ts) and is relayed
 * to the other members on the private plane so whoever leads a slot sees the same pool. A blob
 * transaction comes in its network form (EIP-7594: with its blobs, commitments and cell proofs,
 * MAX_NETWORK_TRANSACTION_BYTES at most); what goes on is its canonical form, its sidecars kept beside
 * it (BlobStore). Bids target beacon slots; a Flashbots-style `blockNumber` is turned into the slot that
 * would build that block if no slot is missed on the way (the member's `slotOfBlock`), so `slot` is the
 * precise target; a bid for a slot past MAX_BID_HORIZON_SLOTS is refused, not kept until its slot.
 *
 * Every refusal is a JSON-RPC error: a transaction the gate refuses gets geth's (-32000) words, a
 * parameter of the wrong type -32602 naming it, a batch past MAX_BATCH_CALLS an error entry for every
 * call beyond it, a body past MAX_BODY_BYTES HTTP 413.
 */
import { createServer } from 'node:http'
import { keccak256 } from '../core/index.ts'
import { MAX_NETWORK_TRANSACTION_BYTES, MAX_TRANSACTION_BYTES, MAX_TRANSACTIONS, fromHex, toHex } from '../proto/index.ts'
import type { TakenTransaction } from '../core/index.ts'
import type { AuctionBidValue, BlobSidecarValue, BundleValue } from '../proto/index.ts'
import type { Server } from 'node:http'

/** calls answered per batch; each call beyond gets an error entry */
export const MAX_BATCH_CALLS = MAX_TRANSACTIONS
/** a request body's bytes at most (a batch of network-form blob transactions fits) */
export const MAX_BODY_BYTES = 16 * 1024 * 1024
/** how many slots ahead of the current one a bid may target */
export const MAX_BID_HORIZON_SLOTS = 64

export interface IngestionHandlers {
  /** a transaction as submitted, in its canonical form and its checked sidecars; throws (rejects) with the reason if refused */
  take(raw: Uint8Array): TakenTransaction | Promise<TakenTransaction>
  /**
   * gates and pools transactions: per transaction its 0x hash, or the refusal (an error with
   * `rpcCode`: geth's -32000 for a transaction it will not take)
   */
  transactions(txs: TakenTransaction[]): Promise<Array<string | Error>> | Array<string | Error>
  /** the slot now, for the bid horizon (no horizon without it) */
  currentSlot?(): number
  /** `sidecars`: those of the bundle's blob transactions */
  /** takes a bid; rejects with the refusal (an error with `rpcCode`) if one of its transactions is refused */
  bid(bid: AuctionBidValue, sidecars: BlobSidecarValue[]): void | Promise<void>
  /** the slot that builds block `blockNumber` if none is missed; throws with the reason if none can */
  slotOfBlock(blockNumber: number): number
}

function errorReply (id: unknown, err: unknown): unknown {
  const code = err instanceof RpcFailure ? err.code : (err as { rpcCode?: number }).rpcCode ?? -32603
  return { jsonrpc: '2.0', id: id ?? null, error: { code, message: (err as Error).message } }
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

/** A gate outcome as the call's answer: the hash, or the refusal as a JSON-RPC error. */
function txOutcome (outcome: string | Error | undefined): string {
  if (outcome == null) { throw new RpcFailure(-32603, 'the transaction got no outcome') }
  if (typeof outcome === 'string') { return outcome }
  throw new RpcFailure((outcome as { rpcCode?: number }).rpcCode ?? -32000, outcome.message)
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
    if (Number.isNaN(slot)) { throw new RpcFailure(-32602, 'bundle: slot: expected a non-negative quantity (a number or 0x-hex)') }
  } else {
    const block = quantityParam(o.blockNumber)
    if (Number.isNaN(block)) {
      throw new RpcFailure(-32602, o.blockNumber == null ? 'bundle: expected a slot or a blockNumber' : 'bundle: blockNumber: expected a non-negative quantity (a number or 0x-hex)')
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
  if (o.revertProtected != null && typeof o.revertProtected !== 'boolean') {
    throw new RpcFailure(-32602, 'bundle: revertProtected: expected a boolean')
  }
  const now = handlers.currentSlot?.()
  if (now != null && slot > now + MAX_BID_HORIZON_SLOTS) {
    throw new RpcFailure(-32602, `bundle: slot ${slot} is past the bid horizon (the slot now is ${now}; bids reach ${MAX_BID_HORIZON_SLOTS} slots ahead, to ${now + MAX_BID_HORIZON_SLOTS})`)
  }
  if (now != null && slot < now) {
    throw new RpcFailure(-32602, `bundle: slot ${slot} has passed (the slot now is ${now})`)
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
        return txOutcome((await handlers.transactions([taken]))[0])
      }
      case 'eth_sendBundle': {
        const { slot, bundle, sidecars } = await bundleParam(params[0], handlers)
        await handlers.bid({ slot, bundle, winner: false }, sidecars)
        return { bundleHash: `0x${toHex(keccak256(Buffer.concat(bundle.txs)))}` }
      }
      case 'atelier_setAuctionWinner': {
        const { slot, bundle, sidecars } = await bundleParam(params[0], handlers)
        await handlers.bid({ slot, bundle, winner: true }, sidecars)
        return true
      }
      default:
        throw new RpcFailure(-32601, `method ${method} not found`)
    }
  }
  const one = async (r: { id?: unknown, method?: unknown, params?: unknown }): Promise<unknown> => {
    try {
      return { jsonrpc: '2.0', id: r?.id ?? null, result: await call(String(r?.method), Array.isArray(r?.params) ? r.params : []) }
    } catch (err) {
      return errorReply(r?.id, err)
    }
  }
  /**
   * A batch's calls in order (a bundle after a transaction sees the pool that transaction left); a run
   * of consecutive raw transactions goes through the gate together, so their senders' state is read in
   * one proof batch.
   */
  const batch = async (calls: unknown[]): Promise<unknown[]> => {
    const replies: unknown[] = []
    const taken = calls.slice(0, MAX_BATCH_CALLS)
    for (let i = 0; i < taken.length;) {
      const run: Array<{ id: unknown, param: unknown }> = []
      while (i < taken.length && (taken[i] as { method?: unknown })?.method === 'eth_sendRawTransaction') {
        const r = taken[i++] as { id?: unknown, params?: unknown }
        run.push({ id: r.id ?? null, param: Array.isArray(r.params) ? r.params[0] : undefined })
      }
      if (run.length > 0) {
        replies.push(...await transactionRun(run))
        continue
      }
      replies.push(await one(taken[i++] as never))
    }
    for (const r of calls.slice(MAX_BATCH_CALLS)) {
      replies.push(errorReply((r as { id?: unknown })?.id, new RpcFailure(-32600, `batch too large: ${calls.length} calls, at most ${MAX_BATCH_CALLS} are answered`)))
    }
    return replies
  }
  const transactionRun = async (run: Array<{ id: unknown, param: unknown }>): Promise<unknown[]> => {
    // taken one by one: blob transactions queue for the one KZG worker, which refuses a crowd
    const taken: Array<TakenTransaction | Error> = []
    for (const r of run) { taken.push(await transactionParam(r.param, 'transaction', handlers.take).catch((err: Error) => err)) }
    const good = taken.filter((t): t is TakenTransaction => !(t instanceof Error))
    const outcomes = good.length > 0 ? await handlers.transactions(good) : []
    let k = 0
    return taken.map((t, i) => {
      try {
        if (t instanceof Error) { throw t }
        return { jsonrpc: '2.0', id: run[i].id, result: txOutcome(outcomes[k++]) }
      } catch (err) {
        return errorReply(run[i].id, err)
      }
    })
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    let refused = false
    req.on('data', (c: Buffer) => {
      if (refused) { return }
      size += c.length
      if (size > MAX_BODY_BYTES) {
        refused = true
        chunks.length = 0
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: `request body over ${MAX_BODY_BYTES} bytes` } }))
        req.resume()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => {
      if (refused) { return }
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }))
        return
      }
      void (async () => {
        const reply = Array.isArray(body) ? await batch(body) : await one(body as never)
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply))
      })().catch(err => {
        res.writeHead(500).end(String((err as Error).message))
      })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { resolve() })
  })
  return { server, port: (server.address() as { port: number }).port }
}
