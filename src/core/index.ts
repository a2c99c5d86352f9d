/**
 * src/core — pure, deterministic slot simulation and canonical ordering over an injected state
 * source (see ordering.ts for the order). No I/O of its own: parent state arrives through
 * `StateSource`. May import src/proto only.
 */
export * from './chain-rules.ts'
export * from './decode.ts'
export * from './ordering.ts'
export * from './slot-types.ts'
export * from './simulate.ts'
export * from './system-calls.ts'
export * from './block-end.ts'
export * from './blobs.ts'
