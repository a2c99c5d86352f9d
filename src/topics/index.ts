/**
 * src/topics — identifiers (`UniqueId`, `ATELIER_ROOT`, topic and stream ids, gossipsub strings) and
 * the gossip validators that judge what arrives on them. May import src/proto and src/enclave; no I/O.
 */
export * from './unique-id.ts'
export * from './ids.ts'
export * from './validators.ts'
