/**
 * What a status page shows, held for its subscribers: the committee, the chain, the newest
 * STATUS_SLOTS slots and the counters. Every change becomes one event for every subscriber; a change
 * that changes nothing (the same committee again) is not sent, so a page stays quiet when nothing
 * happens.
 *
 * Owns StatusBook.
 */
import { STATUS_SLOTS } from './status-types.ts'
import type { ChainRow, Counters, MemberRow, SlotRow, StatusEvent, StatusSnapshot } from './status-types.ts'

export class StatusBook {
  readonly kind: StatusSnapshot['kind']
  readonly index?: number
  #committee: MemberRow[] = []
  #chain: ChainRow = { slotNow: 0, leader: 0 }
  #counters: Counters = {}
  readonly #slots = new Map<number, SlotRow>()
  readonly #subscribers = new Set<(e: StatusEvent) => void>()

  constructor (kind: StatusSnapshot['kind'], index?: number) {
    this.kind = kind
    this.index = index
  }

  snapshot (): StatusSnapshot {
    return {
      kind: this.kind,
      ...(this.index != null ? { index: this.index } : {}),
      committee: this.#committee,
      chain: this.#chain,
      slots: [...this.#slots.values()].sort((a, b) => a.slot - b.slot),
      counters: this.#counters
    }
  }

  /** Calls `fn` with every event from now on; returns the unsubscribe. */
  subscribe (fn: (e: StatusEvent) => void): () => void {
    this.#subscribers.add(fn)
    return () => { this.#subscribers.delete(fn) }
  }

  slot (slot: number): SlotRow | undefined {
    return this.#slots.get(slot)
  }

  /** Adds or updates a slot; fields left undefined keep what was known. */
  upsertSlot (row: SlotRow): void {
    const merged = { ...this.#slots.get(row.slot), ...withoutUndefined(row) } as SlotRow
    if (same(merged, this.#slots.get(row.slot))) { return }
    this.#slots.set(row.slot, merged)
    if (this.#slots.size > STATUS_SLOTS) {
      this.#slots.delete(Math.min(...this.#slots.keys()))
    }
    this.#emit({ type: 'slot', data: merged })
  }

  setCommittee (rows: MemberRow[]): void {
    if (same(rows, this.#committee)) { return }
    this.#committee = rows
    this.#emit({ type: 'committee', data: rows })
  }

  setChain (chain: ChainRow): void {
    if (same(chain, this.#chain)) { return }
    this.#chain = chain
    this.#emit({ type: 'chain', data: chain })
  }

  setCounters (counters: Counters): void {
    if (same(counters, this.#counters)) { return }
    this.#counters = counters
    this.#emit({ type: 'counters', data: counters })
  }

  #emit (e: StatusEvent): void {
    for (const fn of this.#subscribers) { fn(e) }
  }
}

function withoutUndefined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

function same (a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
