import { RpcError } from './errors.ts'
import type { ChainRpc } from './rpc-client.ts'

export interface ChainInfo {
  chainId: number
  /** `@ethereumjs/common` hardfork name: the node's own word, or `fallbackHardfork` */
  hardfork: string
  /** the node said which rules it runs (anvil does); otherwise only a pin in the config can */
  reported: boolean
}

/**
 * Chain id and hardfork of the pinned chain. anvil reports its hardfork (`anvil_nodeInfo`); other
 * nodes have no standard call for it, so their rules come from the config's pin alone.
 */
export async function detectChainInfo (rpc: ChainRpc, fallbackHardfork = 'osaka'): Promise<ChainInfo> {
  const chainIdHex = await rpc.call<string>('eth_chainId')
  const chainId = Number(BigInt(chainIdHex))
  if (!Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new RpcError('rpc-bad-response', 'eth_chainId', `unusable chain id ${chainIdHex}`)
  }
  let hardfork = fallbackHardfork
  let reported = false
  try {
    const info = await rpc.call<{ hardFork?: string, hard_fork?: string }>('anvil_nodeInfo')
    const name = info.hardFork ?? info.hard_fork
    if (typeof name === 'string' && name.length > 0) {
      hardfork = name.toLowerCase().replace(/[^a-z0-9]/g, '')
      reported = true
    }
  } catch (err) {
    if (!(err instanceof RpcError) || err.code !== 'rpc-error') {
      throw err
    }
  }
  return { chainId, hardfork, reported }
}
