/**
 * What the transaction gate and the pool read of the member's chain: a sender's account on the head
 * (proven against the head's state root, from the gate's own parent cache), and a transaction decoded
 * under the rules in force now.
 */
import { rulesAt, txDecoder } from '../../core/index.ts'
import type { ProvenParent } from '../../chain/index.ts'
import type { ChainRules, DecodedTx, ForkSchedule } from '../../core/index.ts'
import type { GateState } from '../tx-gate.ts'

export function gateState (parent: ProvenParent): GateState {
  return {
    account: async address => {
      const a = await parent.account(address)
      return a == null ? undefined : { nonce: a.nonce, balance: a.balance }
    },
    prefetch: async addresses => { await parent.prefetch(addresses) }
  }
}

export function describeTx (raw: Uint8Array, rules: ChainRules | ForkSchedule): DecodedTx | undefined {
  const d = txDecoder(rulesAt(rules, Math.floor(Date.now() / 1000))).decode(raw)
  return d.ok ? d.value : undefined
}
