/**
 * src/node/status — the operator's window: the live status page of one member (member-status.ts) or of
 * the whole testnet (testnet-status.ts, which merges its members' streams and the proposer's view),
 * the event shapes they stream (status-types.ts), the book that holds them (status-book.ts), the page
 * itself (page.ts: plain HTML, CSS and JS) and its server (status-server.ts). May import src/machine,
 * src/proto and the rest of src/node.
 */
export * from './status-types.ts'
export * from './status-book.ts'
export * from './status-server.ts'
export * from './member-status.ts'
export * from './testnet-status.ts'
