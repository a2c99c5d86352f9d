/**
 * The rules a member simulates under: the config's pinned fork schedule, checked against what the
 * chain says of itself at start (its chain id; the fork anvil reports for its head) and against the
 * EVM's own blob parameters. A mismatch refuses to start, with what differs. Without a pin, the
 * chain must report its rules (anvil); a node that cannot is refused: a silent guess is how a
 * committee builds blocks its chain rejects.
 *
 * Owns chainRulesFor and ChainRulesError.
 */
import { blobParameterMismatch, rulesAt } from '../../core/index.ts'
import type { ChainInfo } from '../../chain/index.ts'
import type { Config } from '../../config/index.ts'
import type { ForkSchedule } from '../../core/index.ts'

export class ChainRulesError extends Error {
  readonly code = 'chain-rules'
}

export function chainRulesFor (config: Config, chain: ChainInfo, headTimestamp: number): ForkSchedule {
  const pin = config.chain
  if (pin == null) {
    if (!chain.reported) {
      throw new ChainRulesError('the chain RPC does not say which rules it runs: pin them in the config\'s "chain" (chain id and fork schedule)')
    }
    return { chainId: chain.chainId, forks: [{ name: chain.hardfork, timestamp: 0 }] }
  }
  if (pin.chainId !== chain.chainId) {
    throw new ChainRulesError(`the chain RPC serves chain id ${chain.chainId}; the config pins ${pin.chainId}`)
  }
  for (const fork of pin.forks) {
    const mismatch = blobParameterMismatch(pin.chainId, fork)
    if (mismatch != null) { throw new ChainRulesError(`blob parameters differ for ${mismatch}`) }
  }
  const schedule: ForkSchedule = { chainId: pin.chainId, forks: pin.forks }
  const expected = rulesAt(schedule, headTimestamp).hardfork
  if (chain.reported && chain.hardfork !== expected) {
    throw new ChainRulesError(`the chain runs ${chain.hardfork} at its head (timestamp ${headTimestamp}); the config's schedule says ${expected}`)
  }
  return schedule
}
