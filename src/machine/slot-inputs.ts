import { hintId } from '../proto/index.ts'
import type { SlotSpec } from './machine.ts'
import type { ParentHeader, SlotInputs } from '../core/index.ts'

/** The core simulation inputs a slot's committed commands stand for, on the given parent header. */
export function slotInputsOf (spec: SlotSpec, parent: ParentHeader): SlotInputs {
  const open = spec.open
  return {
    parent,
    env: {
      timestamp: BigInt(open.timestamp),
      feeRecipient: open.feeRecipient,
      prevRandao: open.prevRandao,
      gasLimit: BigInt(open.gasLimit),
      extraData: open.extraData,
      parentBeaconBlockRoot: open.parentBeaconBlockRoot
    },
    auctionWinner: open.auctionWinner.txs.length > 0 ? open.auctionWinner : undefined,
    hints: [...spec.hints].sort((a, b) => a.sequence - b.sequence).map(h => ({ id: hintId(h.hint), bundle: h.hint.template })),
    unsealed: open.unsealed,
    withdrawals: open.withdrawals
  }
}
