/**
 * Catch-up: the candidates sealed while this member was away, fetched over sync from a member it has
 * just connected to, verified against the pinned roster and adopted. The cursor starts after what
 * the member held when it started, not after its newest candidate: a live candidate can arrive before
 * the catch-up runs, and would hide the gap below it. It moves on only after a walk that reached the
 * end of what the peer holds. A running member repairs gaps the same way: a candidate past the
 * cursor may hide a slot it missed (it joined the gossip mesh late, or was stalled), so it walks a
 * connected member's store from the cursor, at most every `REPAIR_MS`. A walk whose answers leave a
 * slot below the newest one unheld is not taken at its word: the first such slot on is asked of a
 * second member (one peer may be behind, or hold back a slot).
 *
 * Owns CatchUp.
 */
import { explainVerify } from '../../config/index.ts'
import { syncCandidates } from '../../p2p/index.ts'
import type { Config } from '../../config/index.ts'
import type { Plane } from '../../p2p/index.ts'
import type { CandidateValue } from '../../proto/index.ts'
import type { Logger } from '../log.ts'
import type { PeerId } from '@libp2p/interface'

export interface CatchUpOptions {
  plane: Plane
  config: Config
  /** every candidate up to this slot is held already */
  heldThrough: number
  /** the newest slot held now (after a complete walk the cursor moves past it) */
  latestHeld(): Promise<number | undefined>
  /** adopts a verified candidate; false if the slot had one */
  adopt(candidate: CandidateValue): Promise<boolean>
  /** the members this member is connected to on the public plane (default: none, no repairs) */
  members?(): PeerId[]
  /** which of the slots from..to this member holds a candidate for (default: all, no second asking) */
  held?(from: number, to: number): Promise<number[]>
  stopped(): boolean
  log: Logger
}

/** ms between two gap repairs */
export const REPAIR_MS = 5000

export class CatchUp {
  readonly #o: CatchUpOptions
  #heldThrough: number
  #running = false
  #lastRepair = 0

  constructor (options: CatchUpOptions) {
    this.#o = options
    this.#heldThrough = options.heldThrough
  }

  /** Every candidate up to this slot is held (where the next catch-up starts after). */
  get heldThrough (): number {
    return this.#heldThrough
  }

  /** A candidate for `slot` was kept: past the cursor, it may hide a gap, so walk from a member. */
  repair (slot: number): void {
    if (slot <= this.#heldThrough + 1 || Date.now() - this.#lastRepair < REPAIR_MS) { return }
    const peer = this.#o.members?.()[0]
    if (peer == null) { return }
    this.#lastRepair = Date.now()
    void this.from(peer)
  }

  /** Fetches what `peer` holds after the cursor; one catch-up at a time (a second call returns). */
  async from (peer: PeerId): Promise<number> {
    if (this.#running || this.#o.stopped()) { return 0 }
    this.#running = true
    const { log } = this.#o
    let adopted = 0
    try {
      const start = this.#heldThrough + 1
      const first = await this.#walk(peer, start)
      adopted += first.adopted
      let complete = first.complete
      const gap = complete ? await this.#firstGap(start) : undefined
      const second = gap == null ? undefined : this.#o.members?.().find(p => !p.equals(peer))
      if (gap != null && second != null) {
        const again = await this.#walk(second, gap)
        adopted += again.adopted
        complete = again.complete
        log.info('catch-up-second-peer', { from: gap, first: peer.toString(), second: second.toString(), adopted: again.adopted })
      }
      if (complete) {
        this.#heldThrough = Math.max(this.#heldThrough, (await this.#o.latestHeld()) ?? -1)
      }
      if (adopted > 0) { log.info('caught-up', { candidates: adopted, from: peer.toString() }) }
    } catch (err) {
      log.debug('catch-up-failed', { peer: peer.toString(), message: (err as Error).message })
    } finally {
      this.#running = false
    }
    return adopted
  }

  /** The first slot from `start` below the newest held one that this member holds no candidate for. */
  async #firstGap (start: number): Promise<number | undefined> {
    const newest = await this.#o.latestHeld()
    if (this.#o.held == null || newest == null || newest <= start) { return undefined }
    const held = new Set(await this.#o.held(start, newest))
    for (let s = start; s < newest; s++) {
      if (!held.has(s)) { return s }
    }
    return undefined
  }

  async #walk (peer: PeerId, from: number): Promise<{ adopted: number, complete: boolean }> {
    const { config, log } = this.#o
    let adopted = 0
    const walk = await syncCandidates(this.#o.plane, from, {
      peers: () => [peer],
      stopped: () => this.#o.stopped(),
      onError: (_peer, err) => { log.debug('catch-up-failed', { peer: peer.toString(), message: err.message }) }
    }, async page => {
      for (const c of page) {
        const verdict = explainVerify(c, config)
        if (!verdict.valid) {
          log.warn('sync-candidate-invalid', { slot: c.slot, reason: verdict.reason })
        } else if (await this.#o.adopt(c)) {
          adopted++
        }
      }
    })
    return { adopted, complete: walk.complete }
  }
}
