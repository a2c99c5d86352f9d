/**
 * The worker thread behind KzgChecker: takes blob transactions apart (core's `takeTransaction`, the
 * cell-proof check included) and checks blobs bundles against their versioned hashes (core's
 * `blobsBundleMismatch`), off the caller's event loop. One message in, one out: `{ id, raw, rules }`
 * → `{ id, taken }`, `{ id, bundle, hashes }` → `{ id, mismatch }` (null when it matches), or
 * `{ id, error: { code, message } }`.
 */
import { parentPort } from 'node:worker_threads'
import { blobsBundleMismatch, takeTransaction } from '../core/index.ts'
import type { ChainRules } from '../core/index.ts'
import type { BlobsBundleValue } from '../proto/index.ts'

type Request = { id: number, raw: Uint8Array, rules: ChainRules } | { id: number, bundle: BlobsBundleValue, hashes: Uint8Array[] }

parentPort?.on('message', (m: Request) => {
  try {
    if ('bundle' in m) {
      parentPort?.postMessage({ id: m.id, mismatch: blobsBundleMismatch(m.bundle, m.hashes) ?? null })
    } else {
      parentPort?.postMessage({ id: m.id, taken: takeTransaction(m.raw, m.rules) })
    }
  } catch (err) {
    parentPort?.postMessage({ id: m.id, error: { code: (err as { code?: string }).code ?? 'blob-network-form', message: (err as Error).message } })
  }
})
