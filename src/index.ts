/**
 * atelier's public API: config and verification for light subscribers and integrators, the wire
 * types, and identifiers.
 */
export * from './proto/index.ts'
export * from './topics/index.ts'
export * from './config/index.ts'
export * from './enclave/index.ts'
export * from './node/index.ts'
