/**
 * The beacon chain's slot clock: slot `s` starts at `genesisTime + s × secondsPerSlot`, which is also
 * the timestamp of the execution payload proposed in it (the consensus specs'
 * `compute_timestamp_at_slot`). Pure: the caller passes the time.
 */
export class SlotClock {
  readonly genesisTime: number
  readonly secondsPerSlot: number

  constructor (genesisTime: number, secondsPerSlot: number) {
    if (!Number.isSafeInteger(genesisTime) || genesisTime < 0) {
      throw new RangeError(`genesis time must be whole unix seconds, got ${genesisTime}`)
    }
    if (!Number.isSafeInteger(secondsPerSlot) || secondsPerSlot < 1) {
      throw new RangeError(`seconds per slot must be a whole number ≥ 1, got ${secondsPerSlot}`)
    }
    this.genesisTime = genesisTime
    this.secondsPerSlot = secondsPerSlot
  }

  /** The payload timestamp of `slot`. */
  timestampOf (slot: number): number {
    return this.genesisTime + slot * this.secondsPerSlot
  }

  /** The slot in progress at `unixMs` (0 before genesis). */
  slotAt (unixMs: number): number {
    return Math.max(0, Math.floor((unixMs / 1000 - this.genesisTime) / this.secondsPerSlot))
  }

  /** The first slot whose timestamp is after `unixSecs` (a block at that time is the parent of it). */
  slotAfter (unixSecs: number): number {
    return this.slotAt(unixSecs * 1000) + 1
  }

  /** The slot in progress now. */
  current (): number {
    return this.slotAt(Date.now())
  }
}
