/**
 * The member's own per-slot state, beside the machine's (which holds a slot's committed inputs, the
 * members' outputs and the candidate): when the slot opened here, the commands that arrived before
 * what they build on, the takeover timers, the hints collected for it, whether this member is
 * simulating or sealing it, and the root of the candidate kept for it.
 *
 * Owns SlotContext and SlotTable: one context per slot, retired whole once the slot is behind the
 * retirement floor, so no per-slot map is ever cleaned by hand. Imports no other stage.
 */
import type { ExcludedTx } from '../../core/index.ts'
import type { Command } from '../../machine/index.ts'
import type { HintBundleValue } from '../../proto/index.ts'

export class SlotContext {
  readonly slot: number
  /** wall-clock ms when OpenSlot was applied here */
  openedAt?: number
  /** who opened the slot: its leader, or the member that took it over */
  opener?: number
  /** this member's simulation of the slot, ms */
  simulationMs?: number
  /**
   * what this member's own simulation signed and what it left out, and why: if the slot's candidate is
   * that output, the pool learns which of its reserved transactions no block can take
   */
  simulated?: { outputHash: Uint8Array, excluded: ExcludedTx[] }
  /** commands that arrived before what they build on (gossip keeps no order): retried after each step */
  readonly buffered: Command[] = []
  /** hints collected for the slot, by hint id, in arrival order */
  readonly hints = new Map<string, HintBundleValue>()
  /** simulate-and-sign has started (OpenSlot and the last AcceptHint can both complete the inputs) */
  submitting = false
  /** this member issued the slot's SealCandidate (as its leader or by takeover) */
  sealing = false
  /** the signing root of the candidate kept for the slot, once it is sealed or adopted */
  keptRoot?: Uint8Array
  readonly #timers: NodeJS.Timeout[] = []

  constructor (slot: number) {
    this.slot = slot
  }

  get sealed (): boolean {
    return this.keptRoot != null
  }

  /** Runs `fn` after `ms` unless the slot is sealed or retired first; never holds the process open. */
  after (ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      if (!this.sealed) { fn() }
    }, ms)
    t.unref()
    this.#timers.push(t)
  }

  clearTimers (): void {
    for (const t of this.#timers.splice(0)) { clearTimeout(t) }
  }
}

export class SlotTable {
  readonly #slots = new Map<number, SlotContext>()
  /** slots below this are retired: no context is made for them again */
  #floor = 0

  get floor (): number {
    return this.#floor
  }

  get size (): number {
    return this.#slots.size
  }

  get (slot: number): SlotContext | undefined {
    return this.#slots.get(slot)
  }

  /** The slot's context, made on first use; undefined once the slot is retired. */
  at (slot: number): SlotContext | undefined {
    if (slot < this.#floor) { return undefined }
    let ctx = this.#slots.get(slot)
    if (ctx == null) {
      ctx = new SlotContext(slot)
      this.#slots.set(slot, ctx)
    }
    return ctx
  }

  isSealed (slot: number): boolean {
    return this.#slots.get(slot)?.sealed === true
  }

  /** Raises the floor to `floor`: every context below it is dropped (timers cleared) and returned. */
  retireBelow (floor: number): SlotContext[] {
    if (floor <= this.#floor) { return [] }
    this.#floor = floor
    const retired: SlotContext[] = []
    for (const [slot, ctx] of this.#slots) {
      if (slot < floor) {
        ctx.clearTimers()
        this.#slots.delete(slot)
        retired.push(ctx)
      }
    }
    return retired.sort((a, b) => a.slot - b.slot)
  }

  /** Drops one slot's context (timers cleared), below the floor or not. */
  drop (slot: number): SlotContext | undefined {
    const ctx = this.#slots.get(slot)
    ctx?.clearTimers()
    this.#slots.delete(slot)
    return ctx
  }

  clear (): void {
    for (const ctx of this.#slots.values()) { ctx.clearTimers() }
    this.#slots.clear()
  }
}
