/**
 * src/p2p — the attested libp2p planes: Noise gated on TDX quotes or tickets, the admission registry
 * and gater, gossip with validators, the hint and sync streams, roster gossip and the light-subscriber
 * reader. May import src/topics, src/enclave, src/config and src/proto.
 */
export * from './errors.ts'
export * from './frames.ts'
export * from './evidence-source.ts'
export * from './admission-registry.ts'
export * from './attested-noise.ts'
export * from './pre-admission.ts'
export * from './policy.ts'
export * from './plane.ts'
export * from './streams.ts'
export * from './blobs-stream.ts'
export * from './sync-pager.ts'
export * from './roster.ts'
export * from './reader.ts'
