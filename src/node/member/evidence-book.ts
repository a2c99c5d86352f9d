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

export class EvidenceBook {
  readonly #o: EvidenceBookOptions

  constructor (options: EvidenceBookOptions) {
    this.#o = options
  }

  /** Evidence this member's machine produced, or (`gossip`) the committee's, already checked. */
  async record (e: EquivocationValue, source: 'self' | 'gossip'): Promise<void> {
    this.#o.machine().exclude(e.slot, e.member)
    let fresh: boolean
    try {
      fresh = await this.#o.store.putEvidence(e)
    } catch (err) {
      this.#o.log.error('evidence-write-failed', { slot: e.slot, member: e.member, message: (err as Error).message })
      fresh = true
    }
    if (!fresh) { return }
    const kind = equivocationKindName(e.kind) ?? String(e.kind)
    this.#o.metrics.equivocations.inc({ kind, source })
    this.#o.log.warn('equivocation', { slot: e.slot, member: e.member, kind, source })
    if (source === 'self') {
      await this.#o.publish(encodeMessage('Equivocation', e)).catch(err => {
        this.#o.log.warn('evidence-publish-failed', { slot: e.slot, message: (err as Error).message })
      })
    }
  }
}
