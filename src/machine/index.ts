/**
 * src/machine — AtelierMachine (commands → state; queries), slot leadership, and the signing record
 * that keeps a member from ever signing two bodies for one slot. May import src/proto and src/core.
 */
export * from './commands.ts'
export * from './machine.ts'
export * from './leader.ts'
export * from './signing-record.ts'
export * from './slot-inputs.ts'
