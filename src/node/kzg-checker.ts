/**
 * Where a member takes submitted transactions apart (core's `takeTransaction`), and where a reader or
 * a proposer checks a candidate's blobs bundle (core's `blobsBundleMismatch`). Anything but a blob
 * transaction is taken at once; a blob's cell-proof check costs about 0.4 s in pure-JS KZG (3 s for a
 * six-blob transaction), which on the caller's event loop would stall its slots (the testnet's
 * proposer did, 0.5–0.7 s a blob), so it runs on one worker thread, one job at a time, at most
 * MAX_WAITING_BLOB_TXS waiting.
 *
 * Owns KzgChecker.
 */
import { Worker } from 'node:worker_threads'
import { BlobError, blobsBundleMismatch, takeTransaction } from '../core/index.ts'
import type { BlobErrorCode, ChainRules, TakenTransaction } from '../core/index.ts'
import type { BlobsBundleValue } from '../proto/index.ts'

/** blob transactions waiting for the worker at most; more are refused (the sender may retry) */
export const MAX_WAITING_BLOB_TXS = 16

type Reply = { id: number, taken: TakenTransaction } | { id: number, mismatch: string | null } | { id: number, error: { code: BlobErrorCode, message: string } }

export class KzgChecker {
  #worker?: Worker
  #next = 0
  readonly #waiting = new Map<number, { resolve(r: Reply): void, reject(e: Error): void }>()

  /** The transaction's canonical form and its checked sidecars; rejects with a BlobError if refused. */
  async take (raw: Uint8Array, rules: ChainRules): Promise<TakenTransaction> {
    if (raw[0] !== 0x03) { return takeTransaction(raw, rules) }
    const r = await this.#ask({ raw, rules })
    return (r as { taken: TakenTransaction }).taken
  }

  /** Why `bundle` is not these versioned hashes' blobs (core's `blobsBundleMismatch`); undefined when it is. */
  async bundleMismatch (bundle: BlobsBundleValue, versionedHashes: Uint8Array[]): Promise<string | undefined> {
    if (bundle.blobs.length === 0) { return blobsBundleMismatch(bundle, versionedHashes) }
    const r = await this.#ask({ bundle, hashes: versionedHashes })
    return (r as { mismatch: string | null }).mismatch ?? undefined
  }

  async #ask (request: Record<string, unknown>): Promise<Reply> {
    if (this.#waiting.size >= MAX_WAITING_BLOB_TXS) {
      throw new BlobError('blob-network-form', `busy: ${this.#waiting.size} blob checks are waiting; try again`)
    }
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      const worker = this.#spawn()
      // a check under way keeps the process alive; an idle worker never does
      worker.ref()
      worker.postMessage({ id, ...request })
    })
  }

  #spawn (): Worker {
    if (this.#worker != null) { return this.#worker }
    // run from source (type stripping) or from the build: the worker is this file's sibling either way
    const file = import.meta.url.endsWith('.ts') ? './kzg-worker.ts' : './kzg-worker.js'
    const worker = new Worker(new URL(file, import.meta.url))
    worker.on('message', (r: Reply) => {
      const w = this.#waiting.get(r.id)
      this.#waiting.delete(r.id)
      if (this.#waiting.size === 0) { worker.unref() }
      if ('error' in r) {
        w?.reject(new BlobError(r.error.code, r.error.message))
      } else {
        // structured clone hands back plain Uint8Arrays: what SSZ and the pool take
        w?.resolve(r)
      }
    })
    worker.on('error', err => { this.#fail(`the KZG worker failed: ${err.message}`) })
    worker.on('exit', () => {
      this.#worker = undefined
      this.#fail('the KZG worker stopped')
    })
    // after the listeners, as adding a 'message' listener refs the worker again (measured: with unref()
    // before it, a process that had used the worker never exited)
    worker.unref()
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
