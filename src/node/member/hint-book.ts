/**
 * Hints from co-builders: the verdict a co-builder gets on the hint stream (signature, the window of
 * slots still open for hints, duplicates and the per-slot bound), the relay of an accepted hint to the
 * other members, and the hints collected per slot, by every member, for whoever leads the slot.
 *
 * Owns HintBook. The hints themselves live in their slot's context, and go when it is retired.
 */
import { hintId, MAX_HINTS_PER_SLOT, toHex, verifyHintSignature } from '../../proto/index.ts'
import type { HintVerdict } from '../../p2p/index.ts'
import type { HintBundleValue } from '../../proto/index.ts'
import type { Logger } from '../log.ts'
import type { NodeMetrics } from '../metrics.ts'
import type { SlotTable } from './slot-table.ts'
import type { PeerId } from '@libp2p/interface'

/** hints are taken for this many slots from the next one on the slot clock (the one about to open) */
export const HINT_WINDOW = 2

export interface HintBookOptions {
  table: SlotTable
  /** `ATELIER_ROOT`: the hints' signing domain */
  domainId: Uint8Array
  /** the next slot on the slot clock: the one whose payload attributes come next */
  nextSlot(): number
  /** the slot's inputs are fixed already (its OpenSlot is applied) */
  isOpen(slot: number): boolean
  /** gossips an accepted hint to the other members */
  relay(hint: HintBundleValue): Promise<void>
  /** decodes the hint's transactions ahead of the slot */
  predecode(txs: Uint8Array[]): void
  /** why the blobs of these transactions could not be served with a block (no sidecars held); undefined if they can */
  blobsMissing(txs: Uint8Array[]): string | undefined
  metrics: NodeMetrics
  log: Logger
}

export class HintBook {
  readonly #o: HintBookOptions

  constructor (options: HintBookOptions) {
    this.#o = options
  }

  /** The verdict on a hint a co-builder sent over the hint stream; accepted ones are relayed. */
  async judge (hint: HintBundleValue, from: PeerId): Promise<HintVerdict> {
    const [first, last] = this.window()
    const open = `slots ${first}–${last} take hints`
    let verdict: HintVerdict
    if (!verifyHintSignature(hint, this.#o.domainId)) {
      verdict = { accepted: false, reason: 'bad signature: it does not recover the co-builder address' }
    } else if (hint.slot < first) {
      verdict = { accepted: false, reason: `slot ${hint.slot} takes no more hints (its inputs are fixed); ${open}` }
    } else if (hint.slot > last) {
      verdict = { accepted: false, reason: `slot ${hint.slot} is too far ahead; ${open}` }
    } else if (this.#o.blobsMissing(hint.template.txs) != null) {
      verdict = { accepted: false, reason: this.#o.blobsMissing(hint.template.txs) as string }
    } else if (!this.add(hint)) {
      verdict = { accepted: false, reason: 'duplicate or too many hints for this slot' }
    } else {
      await this.#o.relay(hint).catch(() => {})
      verdict = { accepted: true, reason: 'accepted' }
    }
    this.#o.metrics.hints.inc({ result: verdict.accepted ? 'accepted' : 'rejected' })
    this.#o.log.info('hint', { slot: hint.slot, from: from.toString(), accepted: verdict.accepted, reason: verdict.reason })
    return verdict
  }

  /**
   * The slots that take hints now: from the next one on the slot clock whose inputs are not fixed yet,
   * HINT_WINDOW of them (a leader that opened the next slot early moves the window on).
   */
  window (): [number, number] {
    const next = this.#o.nextSlot()
    let first = next
    while (this.#o.isOpen(first) && first < next + HINT_WINDOW) { first++ }
    return [first, first + HINT_WINDOW - 1]
  }

  /** Collects a hint for its slot; false for a duplicate, a full slot or a retired one. */
  add (hint: HintBundleValue): boolean {
    const ctx = this.#o.table.at(hint.slot)
    const id = toHex(hintId(hint))
    if (ctx == null || ctx.hints.size >= MAX_HINTS_PER_SLOT || ctx.hints.has(id)) {
      return false
    }
    ctx.hints.set(id, hint)
    this.#o.predecode(hint.template.txs)
    return true
  }

  /** The hints collected for a slot, in arrival order. */
  for (slot: number): HintBundleValue[] {
    // a relayed hint whose sidecars this member does not hold: it could not serve that block's blobs
    return [...(this.#o.table.get(slot)?.hints.values() ?? [])].filter(h => this.#o.blobsMissing(h.template.txs) == null)
  }
}
