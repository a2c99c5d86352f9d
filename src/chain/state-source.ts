import { hexToBytes } from '@ethereumjs/util'
import { PinnedStateManager } from './pinned-state-manager.ts'
import type { CallShape, ParentState } from './parent-state.ts'
import type { Common } from '@ethereumjs/common'

/** Structurally core's `StateSource` (chain sits below core and does not import it). */
export interface RpcStateSource {
  stateManager(common: Common): PinnedStateManager
  blockHash(n: bigint): Promise<Uint8Array>
  prefetch(addresses: string[]): Promise<void>
  prefetchCalls(calls: CallShape[]): Promise<void>
}

/** Parent state from the pinned RPC, in the shape core's simulation takes. */
export function rpcStateSource (parent: ParentState): RpcStateSource {
  return {
    stateManager: (common: Common) => new PinnedStateManager(parent, common),
    blockHash: async (n: bigint) => hexToBytes(await parent.blockHash(n) as `0x${string}`),
    prefetch: async (addresses: string[]) => parent.prefetch(addresses),
    prefetchCalls: async (calls: CallShape[]) => parent.prefetchCalls(calls)
  }
}
