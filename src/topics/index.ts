/**
 * src/topics — identifiers: `UniqueId`, the `ATELIER_ROOT` derivation, topic and stream ids and their
 * gossipsub strings. May import src/proto and src/enclave; nothing that does I/O.
 */
export * from './unique-id.ts'
export * from './ids.ts'
