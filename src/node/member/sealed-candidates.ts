/**
 * What becomes of a slot's candidate at this member: kept (the first valid one per slot; its root
 * answers the candidates topic's duplicate check), published on the public candidates topic when this
 * member's machine sealed it, stored for sync, its transactions settled in the pool, counted, and
 * announced as a `sealed` event. A candidate from the public topic or from catch-up is adopted the same
 * way, even by a member whose own simulation diverged (its machine will never seal that slot itself).
 *
 * Owns SealedCandidates and SealedEvent.
 */
import { candidateSigningRoot, encodeMessage, equalBytes, toHex } from '../../proto/index.ts'
import type { AtelierMachine } from '../../machine/index.ts'
import type { CandidateValue } from '../../proto/index.ts'
import type { InputPool } from '../input-pool.ts'
import type { Logger } from '../log.ts'
import type { NodeMetrics } from '../metrics.ts'
import type { NodeStore } from '../store.ts'
import type { SlotContext, SlotTable } from './slot-table.ts'
import type { ExclusionOutlook } from '../../core/index.ts'

export interface SealedEvent {
  candidate: CandidateValue
  /** OpenSlot applied → sealed, ms (undefined when the candidate came from the public topic) */
  latencyMs?: number
  simulationMs?: number
  sealer: 'self' | 'committee' | 'public'
  /** who opened the slot here (undefined when the candidate came from the public topic) */
  opener?: number
}

export interface SealedCandidatesOptions {
  machine: AtelierMachine
  table: SlotTable
  store: Pick<NodeStore, 'putCandidate'>
  pool: InputPool
  domainId: Uint8Array
  /** publishes an encoded candidate on the public candidates topic */
  publish(bytes: Uint8Array): Promise<void>
  metrics: NodeMetrics
  log: Logger
  emit(event: SealedEvent): void
}

const blockOf = (c: CandidateValue): { number: number, hash: string } => ({ number: c.header.number, hash: `0x${toHex(c.header.blockHash)}` })

/**
 * Why this member's own simulation left transactions out (by hash, hex without `0x`), if the slot's
 * kept candidate is that very output; otherwise (another opening of the slot won, or this member had
 * not simulated it yet) nothing is known of the transactions it reserved.
 */
function leftOut (ctx: SlotContext | undefined): Map<string, ExclusionOutlook> | undefined {
  const sim = ctx?.simulated
  if (sim == null || ctx?.keptRoot == null || !equalBytes(sim.outputHash, ctx.keptRoot)) { return undefined }
  return new Map(sim.excluded.map(e => [e.hash.replace(/^0x/, ''), e.outlook]))
}

export class SealedCandidates {
  readonly #o: SealedCandidatesOptions

  constructor (options: SealedCandidatesOptions) {
    this.#o = options
  }

  /** The signing root of the candidate kept for `slot`, if any (the candidates topic's check). */
  keptRoot (slot: number): Uint8Array | undefined {
    return this.#o.table.get(slot)?.keptRoot
  }

  /** Keeps `candidate` as its slot's one candidate: its takeover timers stop. */
  keep (candidate: CandidateValue): void {
    const ctx = this.#o.table.at(candidate.slot)
    if (ctx == null) { return }
    ctx.keptRoot = candidateSigningRoot(candidate, this.#o.domainId)
    ctx.clearTimers()
  }

  /** The machine sealed `slot`: keep, publish, store and settle its candidate. */
  async sealed (slot: number): Promise<void> {
    const { machine, table, metrics, log } = this.#o
    const candidate = machine.query({ type: 'CandidateFor', slot })
    const ctx = table.get(slot)
    if (candidate == null || ctx == null || ctx.sealed) { return }
    this.keep(candidate)
    const sealer = ctx.sealing ? 'self' : 'committee'
    // published before it is stored: the store is only for serving sync (a synced write costs a disk
    // flush), and a member that crashes in between gets the candidate back from the others
    await this.#o.publish(encodeMessage('Candidate', candidate)).catch(() => {})
    const latencyMs = ctx.openedAt == null ? undefined : Date.now() - ctx.openedAt
    if (latencyMs != null) { metrics.sealLatency.observe(latencyMs / 1000) }
    await this.#o.store.putCandidate(candidate)
    this.#o.pool.settle(slot, candidate.body, blockOf(candidate), leftOut(ctx))
    metrics.slotsSealed.inc()
    metrics.candidateValue.set(Number(candidate.blockValue))
    metrics.candidateSigners.observe(candidate.committeeRoster.length)
    const simulationMs = ctx.simulationMs
    log.info('slot-sealed', { slot, txs: candidate.body.length, gas: candidate.header.gasUsed, signers: candidate.committeeRoster.length, latencyMs, simulationMs, sealer })
    this.#o.emit({ candidate, latencyMs, simulationMs, sealer, opener: ctx.opener })
  }

  /** A verified candidate from the public topic or catch-up; false if the slot has one already. */
  async adopt (candidate: CandidateValue): Promise<boolean> {
    const { table } = this.#o
    if (table.isSealed(candidate.slot)) { return false }
    this.keep(candidate)
    if (!await this.#o.store.putCandidate(candidate)) { return false }
    this.#o.pool.settle(candidate.slot, candidate.body, blockOf(candidate), leftOut(table.get(candidate.slot)))
    this.#o.metrics.slotsSealed.inc()
    this.#o.metrics.candidateValue.set(Number(candidate.blockValue))
    this.#o.metrics.candidateSigners.observe(candidate.committeeRoster.length)
    this.#o.log.info('candidate-adopted', { slot: candidate.slot, signers: candidate.committeeRoster.length })
    this.#o.emit({ candidate, sealer: 'public' })
    return true
  }
}
