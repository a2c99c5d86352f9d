/**
 * src/node/member — a committee member's slot pipeline, one stage per file, composed in member.ts.
 * Imports the other folders' public surfaces and src/node's own pool, store, log and metrics.
 */
export * from './member.ts'
export * from './planes.ts'
export * from './slot-table.ts'
export * from './command-bus.ts'
export * from './duties.ts'
export * from './simulator.ts'
export * from './hint-book.ts'
export * from './gossip-handlers.ts'
export * from './relay.ts'
export * from './sealed-candidates.ts'
export * from './catch-up.ts'
export * from './chain-rules.ts'
export * from './stages.ts'
export * from './slot-trigger.ts'
export * from './environment-check.ts'
export * from './upstream.ts'
