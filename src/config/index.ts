/**
 * src/config — the atelier `Config`: its JSON schema, validation with errors that name the field,
 * the fingerprint (`signature()`) and candidate `verify` against the pinned roster. No I/O: callers
 * read the file. May import src/proto and src/topics.
 */
export * from './errors.ts'
export * from './schema.ts'
export * from './config.ts'
export * from './verify.ts'
