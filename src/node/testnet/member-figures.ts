/**
 * What the testnet reads from its members' log lines: when each slot opened, the sealer's latency,
 * simulation time and whether its parent was warm, the parent states opened by path, and the
 * divergences counted.
 *
 * Owns MemberFigures.
 */
import type { LogLine } from './member-process.ts'

/** slots of warm flags kept per member: a slot's flag matters until it seals */
const WARM_FLAGS_KEPT = 128

export class MemberFigures {
  /** OpenSlot → sealed, ms, by slot (the sealer's) */
  readonly sealLatency = new Map<number, number>()
  /** wall-clock ms when the slot's leader opened it */
  readonly openedAt = new Map<number, number>()
  /** the sealer's own simulation time, ms */
  readonly simulationMs = new Map<number, number>()
  /** whether the sealer simulated on a warm parent (its own post-state), by slot */
  readonly sealerWarm = new Map<number, boolean>()
  /** parent states the members opened, by path */
  readonly parentStates = { warm: 0, proofs: 0 }
  divergence = 0
  /** member → slot → simulated on a warm parent */
  readonly #warmBy = new Map<number, Map<number, boolean>>()

  /** Takes one line of member `i`'s log; false when it is none of the lines counted here. */
  read (i: number, line: LogLine): boolean {
    if (typeof line.slot === 'number') {
      if (line.event === 'slot-opened' && typeof line.openedAt === 'number') {
        this.openedAt.set(line.slot, line.openedAt)
        return true
      }
      if (line.event === 'slot-sealed' && line.sealer === 'self') {
        this.#sealed(i, line.slot, line)
        return true
      }
      if (line.event === 'slot-parent' && typeof line.warm === 'boolean') {
        this.#noteParent(i, line.slot, line.warm)
        return true
      }
    }
    if (line.event === 'parent-state-opened' && (line.path === 'warm' || line.path === 'proofs')) {
      this.parentStates[line.path]++
      return true
    }
    if (line.event === 'simulation-divergence') {
      this.divergence++
      return true
    }
    return false
  }

  /** The share of parents opened warm. */
  get warmShare (): number {
    return this.parentStates.warm / Math.max(1, this.parentStates.warm + this.parentStates.proofs)
  }

  #sealed (i: number, slot: number, line: LogLine): void {
    if (typeof line.latencyMs === 'number') { this.sealLatency.set(slot, line.latencyMs) }
    if (typeof line.simulationMs === 'number') { this.simulationMs.set(slot, line.simulationMs) }
    const warm = this.#warmBy.get(i)?.get(slot)
    if (warm != null) { this.sealerWarm.set(slot, warm) }
  }

  #noteParent (i: number, slot: number, warm: boolean): void {
    const bySlot = this.#warmBy.get(i) ?? new Map<number, boolean>()
    bySlot.set(slot, warm)
    if (bySlot.size > WARM_FLAGS_KEPT) { bySlot.delete(bySlot.keys().next().value as number) }
    this.#warmBy.set(i, bySlot)
  }
}
