import { RpcError } from './errors.ts'
import type { ChainRpc } from './rpc-client.ts'

export interface ChainInfo {
  chainId: number
  /** `@ethereumjs/common` hardfork name */
  hardfork: string
}

/**
 * Chain id and hardfork of the pinned chain. anvil reports its hardfork (`anvil_nodeInfo`); for
 * other nodes the operator pins it (`fallbackHardfork`), since JSON-RPC has no standard call for it.
 */
export async function detectChainInfo (rpc: ChainRpc, fallbackHardfork = 'osaka'): Promise<ChainInfo> {
  const chainIdHex = await rpc.call<string>('eth_chainId')
  const chainId = Number(BigInt(chainIdHex))
  if (!Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new RpcError('rpc-bad-response', 'eth_chainId', `unusable chain id ${chainIdHex}`)
  }
  let hardfork = fallbackHardfork
  try {
    const info = await rpc.call<{ hardFork?: string, hard_fork?: string }>('anvil_nodeInfo')
    const reported = info.hardFork ?? info.hard_fork
    if (typeof reported === 'string' && reported.length > 0) {
      hardfork = reported.toLowerCase().replace(/[^a-z0-9]/g, '')
    }
  } catch (err) {
    if (!(err instanceof RpcError) || err.code !== 'rpc-error') {
      throw err
    }
  }
  return { chainId, hardfork }
}
