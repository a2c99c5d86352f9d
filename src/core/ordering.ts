/**
 * The canonical order of a slot's transactions. Every member must arrive at the same list from the
 * same inputs, whatever order the inputs reached it in:
 *
 * 1. the auction winner's bundle, in its own order;
 * 2. the accepted hint bundles, in acceptance order (the leader's sequence numbers), each in its own order;
 * 3. the unsealed pool: by effective priority fee (min(tip cap, fee cap − base fee)) descending, ties
 * broken by transaction hash ascending, with each sender's transactions always in nonce order
 * (a sender's next transaction competes only once its previous nonce is placed). Pool entries
 * whose fee cap is below the base fee, and exact duplicates, are left out. Of two transactions with
 * one sender and nonce (a replacement), the one paying more wins: higher effective tip, then higher
 * fee cap, then the lower hash. Geth keeps the first-seen one unless the new one bumps its price; a
 * committee has no common "first seen", so the price alone decides.
 *
 * Pure: no I/O, no clock, no randomness.
 */
import type { DecodedTx } from './decode.ts'
import type { ExclusionOutlook } from './slot-types.ts'

export function effectiveTip (tx: DecodedTx['tx'], baseFee: bigint): bigint {
  const t = tx as unknown as { maxPriorityFeePerGas?: bigint, maxFeePerGas?: bigint, gasPrice?: bigint }
  if (t.maxFeePerGas != null && t.maxPriorityFeePerGas != null) {
    const headroom = t.maxFeePerGas - baseFee
    return headroom < t.maxPriorityFeePerGas ? headroom : t.maxPriorityFeePerGas
  }
  return (t.gasPrice ?? 0n) - baseFee
}

function compareHash (a: string, b: string): number {
  if (a === b) {
    return 0
  }
  return a < b ? -1 : 1
}

function compareNonce (a: DecodedTx, b: DecodedTx): number {
  if (a.nonce === b.nonce) {
    return compareHash(a.hash, b.hash)
  }
  return a.nonce < b.nonce ? -1 : 1
}

function feeCap (tx: DecodedTx['tx']): bigint {
  const t = tx as unknown as { maxFeePerGas?: bigint, gasPrice?: bigint }
  return t.maxFeePerGas ?? t.gasPrice ?? 0n
}

/** One sender's transactions in nonce order, one per nonce: the one paying more (see the module comment). */
function replaced (byNonce: DecodedTx[], baseFee: bigint, dropped: PoolOrder['dropped']): DecodedTx[] {
  const out: DecodedTx[] = []
  for (const tx of byNonce) {
    const prev = out.at(-1)
    if (prev == null || prev.nonce !== tx.nonce) {
      out.push(tx)
      continue
    }
    const tipDiff = effectiveTip(tx.tx, baseFee) - effectiveTip(prev.tx, baseFee)
    const capDiff = feeCap(tx.tx) - feeCap(prev.tx)
    const wins = tipDiff > 0n || (tipDiff === 0n && (capDiff > 0n || (capDiff === 0n && compareHash(tx.hash, prev.hash) < 0)))
    const [winner, loser] = wins ? [tx, prev] : [prev, tx]
    dropped.push({ hash: loser.hash, reason: `replaced by ${winner.hash} (same sender and nonce, higher fee)`, outlook: 'never' })
    out[out.length - 1] = winner
  }
  return out
}

export interface PoolOrder {
  ordered: DecodedTx[]
  dropped: Array<{ hash: string, reason: string, outlook: ExclusionOutlook }>
}

/** Orders the unsealed pool canonically; see the module comment. */
export function orderPool (pool: DecodedTx[], baseFee: bigint): PoolOrder {
  const dropped: PoolOrder['dropped'] = []
  const seen = new Set<string>()
  const bySender = new Map<string, DecodedTx[]>()
  const unique = [...pool].sort((a, b) => compareHash(a.hash, b.hash))
  for (const tx of unique) {
    if (seen.has(tx.hash)) {
      dropped.push({ hash: tx.hash, reason: 'duplicate', outlook: 'never' })
      continue
    }
    seen.add(tx.hash)
    if (effectiveTip(tx.tx, baseFee) < 0n) {
      dropped.push({ hash: tx.hash, reason: 'fee cap below the base fee', outlook: 'state' })
      continue
    }
    const list = bySender.get(tx.sender) ?? []
    list.push(tx)
    bySender.set(tx.sender, list)
  }
  const queues = [...bySender.values()].map(list => replaced(list.sort(compareNonce), baseFee, dropped))
  const ordered: DecodedTx[] = []
  // heads of every sender's queue compete; small pools (≤ a few thousand) make a linear scan fine
  const heads = queues.map(() => 0)
  for (;;) {
    let best = -1
    let bestTip = 0n
    for (let q = 0; q < queues.length; q++) {
      const tx = queues[q][heads[q]]
      if (tx == null) {
        continue
      }
      const tip = effectiveTip(tx.tx, baseFee)
      if (best < 0 || tip > bestTip || (tip === bestTip && compareHash(tx.hash, queues[best][heads[best]].hash) < 0)) {
        best = q
        bestTip = tip
      }
    }
    if (best < 0) {
      break
    }
    ordered.push(queues[best][heads[best]])
    heads[best]++
  }
  return { ordered, dropped }
}
