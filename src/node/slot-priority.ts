/**
 * Slot work before ingestion. A member's event loop runs both its slots' simulations and its
 * ingestion gate (decoding, sender recovery: ~1 ms a transaction in JS); a flood of transactions,
 * valid or not, would stretch every simulation it overlaps. So the gate waits while a simulation runs
 * (at most `maxWaitMs`: back-to-back slots never starve ingestion outright), and once
 * MAX_WAITING_INGESTION batches wait, a new one is refused as busy instead of being held in memory.
 *
 * Owns SlotPriority.
 */

/** ingestion batches held while slot work runs, at most; more are refused (the sender may retry) */
export const MAX_WAITING_INGESTION = 32
/** how long a batch waits for slot work at most before it is gated anyway */
export const MAX_INGESTION_WAIT_MS = 2000

export class SlotPriority {
  #running = 0
  #waiters: Array<() => void> = []

  /** Runs slot work; ingestion waits until no slot work runs. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.#running++
    try {
      return await fn()
    } finally {
      if (--this.#running === 0) {
        for (const wake of this.#waiters.splice(0)) { wake() }
      }
    }
  }

  get busy (): boolean {
    return this.#running > 0
  }

  get waiting (): number {
    return this.#waiters.length
  }

  /** Resolves when no slot work runs (at once if none does), or after `maxWaitMs`. */
  async idle (maxWaitMs = MAX_INGESTION_WAIT_MS): Promise<void> {
    if (this.#running === 0) { return }
    await new Promise<void>(resolve => {
      const wake = (): void => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter(w => w !== wake)
        resolve()
      }, maxWaitMs)
      timer.unref()
      this.#waiters.push(wake)
    })
  }
}
