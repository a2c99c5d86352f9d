/**
 * atelier's public API: the `Atelier` facade (`read`, `verify`), config, wire types and identifiers,
 * attestation, the member node and the pieces it is built from.
 */
export * from './proto/index.ts'
export * from './topics/index.ts'
export * from './config/index.ts'
export * from './enclave/index.ts'
export * from './chain/index.ts'
export * from './core/index.ts'
export * from './machine/index.ts'
export * from './p2p/index.ts'
export * from './node/index.ts'
