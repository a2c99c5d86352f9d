/** src/node/blocktest — the Ethereum Foundation's blockchain tests through atelier's block path. */
export * from './fixture-node.ts'
export * from './run.ts'
