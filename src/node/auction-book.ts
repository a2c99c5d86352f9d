/**
 * The auction bids a member holds for each slot, until the slot seals or is released: the declared
 * winner, else the bid with the most transactions (the first on a tie), among the bids a slot can be
 * served (their blobs held).
 *
 * Owns AuctionBook.
 */
import type { AuctionBidValue, BundleValue } from '../proto/index.ts'

/** bids kept per slot at most; later ones are not taken */
export const MAX_BIDS_PER_SLOT = 256

export class AuctionBook {
  readonly #bids = new Map<number, BundleValue[]>()
  readonly #winners = new Map<number, BundleValue>()

  add (bid: AuctionBidValue): void {
    if (bid.winner) {
      this.#winners.set(bid.slot, bid.bundle)
      return
    }
    const list = this.#bids.get(bid.slot) ?? []
    if (list.length < MAX_BIDS_PER_SLOT) {
      list.push(bid.bundle)
      this.#bids.set(bid.slot, list)
    }
  }

  winnerFor (slot: number, servable: (txs: Uint8Array[]) => boolean): BundleValue | undefined {
    const declared = this.#winners.get(slot)
    if (declared != null && servable(declared.txs)) {
      return declared
    }
    const bids = (this.#bids.get(slot) ?? []).filter(b => servable(b.txs))
    return bids.reduce<BundleValue | undefined>((best, b) => best == null || b.txs.length > best.txs.length ? b : best, undefined)
  }

  /** The slot is over: its bids go. */
  drop (slot: number): void {
    this.#bids.delete(slot)
    this.#winners.delete(slot)
  }
}
