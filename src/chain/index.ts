/**
 * src/chain — the chain-RPC bridge: JSON-RPC to the one pinned endpoint, head observation into slot
 * boundaries, and parent state for simulation (an RPC-backed state manager over a shared per-parent
 * read cache). The only place atelier reaches outside the committee. May import src/proto only.
 */
export * from './errors.ts'
export * from './types.ts'
export * from './rpc-client.ts'
export * from './head-watcher.ts'
export * from './parent-state.ts'
export * from './pinned-state-manager.ts'
export * from './state-source.ts'
export * from './header-hash.ts'
export * from './proven-state.ts'
export * from './proven-parent-cache.ts'
export * from './proven-state-manager.ts'
export * from './trie-collapse.ts'
export * from './chain-info.ts'
export * from './warm-state.ts'
