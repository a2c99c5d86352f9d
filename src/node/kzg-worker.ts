/**
 * The worker thread behind KzgChecker: takes blob transactions apart (core's `takeTransaction`, the
 * cell-proof check included) off the member's event loop. One message in, one out: `{ id, raw, rules }`
 * → `{ id, taken }` or `{ id, error: { code, message } }`.
 */
import { parentPort } from 'node:worker_threads'
import { takeTransaction } from '../core/index.ts'
import type { ChainRules } from '../core/index.ts'

parentPort?.on('message', (m: { id: number, raw: Uint8Array, rules: ChainRules }) => {
  try {
    parentPort?.postMessage({ id: m.id, taken: takeTransaction(m.raw, m.rules) })
  } catch (err) {
    parentPort?.postMessage({ id: m.id, error: { code: (err as { code?: string }).code ?? 'blob-network-form', message: (err as Error).message } })
  }
})
