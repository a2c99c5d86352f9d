export * from './anvil.ts'
export * from './load.ts'
export * from './member-process.ts'
export * from './testnet.ts'
