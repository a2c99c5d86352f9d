/**
 * A slot's inputs as execution units, in the canonical order (ordering.ts): the auction winner's
 * bundle, the hint bundles in acceptance order, then the pool one transaction per unit. Undecodable
 * inputs are excluded with a reason; a bundle with one lands not at all.
 */
import { orderPool } from './ordering.ts'
import type { DecodedTx, TxDecoder } from './decode.ts'
import type { ExcludedTx, SlotInputs, TxOrigin } from './slot-types.ts'
import type { BundleValue } from '../proto/index.ts'

export interface Unit {
  origin: TxOrigin
  revertProtected: boolean
  hintId?: Uint8Array
  txs: DecodedTx[]
}

/** The parent as ethereumjs sees it: base fee and blob gas of the child follow from it. */

/** Decodes and orders a slot's inputs into execution units (a bundle, or one pool transaction). */
export function collectUnits (inputs: SlotInputs, decoder: TxDecoder, baseFee: bigint): { units: Unit[], excluded: ExcludedTx[] } {
  if (inputs.fixedOrder === true) {
    return fixedUnits(inputs.unsealed, decoder)
  }
  const excluded: ExcludedTx[] = []
  const decodeAll = (raws: Uint8Array[], origin: TxOrigin): DecodedTx[] | undefined => {
    const out: DecodedTx[] = []
    let failed = false
    for (const raw of raws) {
      const d = decoder.decode(raw)
      if (d.ok) {
        out.push(d.value)
      } else {
        excluded.push({ hash: d.hash, origin, reason: d.reason, outlook: 'never' })
        failed = true
      }
    }
    return failed ? undefined : out
  }

  const units: Unit[] = []
  const bundleUnit = (bundle: BundleValue, origin: TxOrigin, hintId?: Uint8Array): void => {
    const txs = decodeAll(bundle.txs, origin)
    if (txs == null) {
      // a bundle lands whole or not at all: one undecodable member drops the rest
      for (const raw of bundle.txs) {
        const d = decoder.decode(raw)
        if (d.ok) {
          excluded.push({ hash: d.value.hash, origin, reason: 'bundle has an undecodable transaction', outlook: 'state' })
        }
      }
      return
    }
    units.push({ origin, revertProtected: bundle.revertProtected, hintId, txs })
  }
  if (inputs.auctionWinner != null) {
    bundleUnit(inputs.auctionWinner, 'auction')
  }
  for (const hint of inputs.hints) {
    bundleUnit(hint.bundle, 'hint', hint.id)
  }
  const pool = orderPool(inputs.unsealed.flatMap(raw => {
    const d = decoder.decode(raw)
    if (!d.ok) {
      excluded.push({ hash: d.hash, origin: 'pool', reason: d.reason, outlook: 'never' })
      return []
    }
    return [d.value]
  }), baseFee)
  for (const d of pool.dropped) {
    excluded.push({ ...d, origin: 'pool' })
  }
  for (const tx of pool.ordered) {
    units.push({ origin: 'pool', revertProtected: false, txs: [tx] })
  }

  return { units, excluded }
}

/** A given block's transactions, in its own order, one unit each (`SlotInputs.fixedOrder`). */
function fixedUnits (raws: Uint8Array[], decoder: TxDecoder): { units: Unit[], excluded: ExcludedTx[] } {
  const units: Unit[] = []
  const excluded: ExcludedTx[] = []
  for (const raw of raws) {
    const d = decoder.decode(raw)
    if (d.ok) {
      units.push({ origin: 'pool', revertProtected: false, txs: [d.value] })
    } else {
      excluded.push({ hash: d.hash, origin: 'pool', reason: d.reason, outlook: 'never' })
    }
  }
  return { units, excluded }
}
