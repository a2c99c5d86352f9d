/**
 * Equivocation evidence at this member: what its own machine saw (two signed OpenSlots, or two
 * simulation outputs, by one member for one slot) and what the committee gossips (checked by the
 * simulations topic's validator first). Each piece is kept once (the store, durably), counted
 * (`atelier_equivocations_total{kind,source}`), logged, gossiped on if this member found it, and the
 * member it names loses its signatures for that slot.
 *
 * Owns EvidenceBook.
 */
import { encodeMessage, equivocationKindName } from '../../proto/index.ts'
import type { AtelierMachine } from '../../machine/index.ts'
import type { EquivocationValue } from '../../proto/index.ts'
import type { Logger } from '../log.ts'
import type { NodeMetrics } from '../metrics.ts'
import type { NodeStore } from '../store.ts'

export interface EvidenceBookOptions {
  machine(): AtelierMachine
  store: Pick<NodeStore, 'putEvidence'>
  publish(bytes: Uint8Array): Promise<void>
  metrics: NodeMetrics
  log: Logger
}

/** evidence keys remembered in memory (the store keeps every piece; this only stops concurrent repeats) */
const SEEN = 4096

export class EvidenceBook {
  readonly #o: EvidenceBookOptions
  readonly #seen = new Set<string>()

  constructor (options: EvidenceBookOptions) {
    this.#o = options
  }

  /** Evidence this member's machine produced, or (`gossip`) the committee's, already checked. */
  async record (e: EquivocationValue, source: 'self' | 'gossip'): Promise<void> {
    // evidence this member's machine found is excluded there already
    if (source === 'gossip') { this.#o.machine().exclude(e.slot, e.member) }
    // the same evidence arrives from several members at once: judged once, before any await
    const key = `${e.kind}:${e.slot}:${e.member}`
    if (this.#seen.has(key)) { return }
    this.#seen.add(key)
    if (this.#seen.size > SEEN) { this.#seen.delete(this.#seen.values().next().value as string) }
    let fresh: boolean
    try {
      fresh = await this.#o.store.putEvidence(e)
    } catch (err) {
      this.#o.log.error('evidence-write-failed', { slot: e.slot, equivocator: e.member, message: (err as Error).message })
      fresh = true
    }
    if (!fresh) { return }
    const kind = equivocationKindName(e.kind) ?? String(e.kind)
    this.#o.metrics.equivocations.inc({ kind, source })
    this.#o.log.warn('equivocation', { slot: e.slot, equivocator: e.member, kind, source })
    if (source === 'self') {
      await this.#o.publish(encodeMessage('Equivocation', e)).catch(err => {
        this.#o.log.warn('evidence-publish-failed', { slot: e.slot, message: (err as Error).message })
      })
    }
  }
}
