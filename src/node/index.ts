/**
 * src/node — wiring: config and candidate files, role event loops, the `Atelier` facade. May import
 * every other folder; only src/cli imports it.
 */
export * from './config-file.ts'
export * from './candidate-file.ts'
export * from './store.ts'
export * from './signing-log.ts'
export * from './log.ts'
export * from './metrics.ts'
export * from './ingestion.ts'
export * from './input-pool.ts'
export * from './tx-gate.ts'
export * from './sender-index.ts'
export * from './slot-priority.ts'
export * from './blob-store.ts'
export * from './status/index.ts'
export * from './member/index.ts'
export * from './member-files.ts'
export * from './client-files.ts'
export * from './atelier.ts'
export * from './testnet/index.ts'
export * from './blocktest/index.ts'
