/**
 * Where a member takes submitted transactions apart (core's `takeTransaction`). Anything but a blob
 * transaction is taken at once; a blob transaction's cell-proof check costs about 0.4 s a blob in
 * pure-JS KZG (3 s for a six-blob one), which on the member's event loop would stall its slots, so it
 * runs on one worker thread, one transaction at a time, at most MAX_WAITING_BLOB_TXS waiting.
 *
 * Owns KzgChecker.
 */
import { Worker } from 'node:worker_threads'
import { BlobError, takeTransaction } from '../core/index.ts'
import type { BlobErrorCode, ChainRules, TakenTransaction } from '../core/index.ts'

/** blob transactions waiting for the worker at most; more are refused (the sender may retry) */
export const MAX_WAITING_BLOB_TXS = 16

type Reply = { id: number, taken: TakenTransaction } | { id: number, error: { code: BlobErrorCode, message: string } }

export class KzgChecker {
  #worker?: Worker
  #next = 0
  readonly #waiting = new Map<number, { resolve(t: TakenTransaction): void, reject(e: Error): void }>()

  /** The transaction's canonical form and its checked sidecars; rejects with a BlobError if refused. */
  async take (raw: Uint8Array, rules: ChainRules): Promise<TakenTransaction> {
    if (raw[0] !== 0x03) { return takeTransaction(raw, rules) }
    if (this.#waiting.size >= MAX_WAITING_BLOB_TXS) {
      throw new BlobError('blob-network-form', `busy: ${this.#waiting.size} blob transactions are being checked; try again`)
    }
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      this.#spawn().postMessage({ id, raw, rules })
    })
  }

  #spawn (): Worker {
    if (this.#worker != null) { return this.#worker }
    // run from source (type stripping) or from the build: the worker is this file's sibling either way
    const file = import.meta.url.endsWith('.ts') ? './kzg-worker.ts' : './kzg-worker.js'
    const worker = new Worker(new URL(file, import.meta.url))
    worker.unref()
    worker.on('message', (r: Reply) => {
      const w = this.#waiting.get(r.id)
      this.#waiting.delete(r.id)
      if ('error' in r) {
        w?.reject(new BlobError(r.error.code, r.error.message))
      } else {
        // structured clone hands back plain Uint8Arrays: what SSZ and the pool take
        w?.resolve(r.taken)
      }
    })
    worker.on('error', err => { this.#fail(`the KZG worker failed: ${err.message}`) })
    worker.on('exit', () => {
      this.#worker = undefined
      this.#fail('the KZG worker stopped')
    })
    this.#worker = worker
    return worker
  }

  #fail (message: string): void {
    for (const w of this.#waiting.values()) { w.reject(new BlobError('blob-network-form', message)) }
    this.#waiting.clear()
  }

  async stop (): Promise<void> {
    const w = this.#worker
    this.#worker = undefined
    await w?.terminate()
    this.#fail('stopping')
  }
}
