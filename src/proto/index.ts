/**
 * src/proto — wire types, their canonical SSZ encoding, signing roots and the signature schemes that
 * sign them. Pure and deterministic: no I/O, no clocks. Imports nothing else of atelier.
 */
export * from './version.ts'
export * from './errors.ts'
export * from './limits.ts'
export * as ssz from './types.ts'
export type * from './types.ts'
export * from './codec.ts'
export * from './signing.ts'
export * from './bls.ts'
export * from './hint-signature.ts'
export * from './candidate-verify.ts'
export * from './bytes.ts'
export * from './keccak.ts'
export * from './trie-root.ts'
export * from './execution-block.ts'
export * from './engine-payload.ts'
export * from './blobs.ts'
export * from './hasher.ts'
export * from './evidence.ts'
