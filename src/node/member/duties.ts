/**
 * The member's duties on the slot clock: as a slot's leader, open it (OpenSlot with the pool, the
 * auction winner and the hints collected, then one AcceptHint each); as the leader once a strict
 * majority agrees, or as the next member by rank after `leaderTimeoutMs` per rank, seal it; and once
 * the head is `markDoneDepth` past a slot, retire it (MarkDone; a slot without a candidate is missed
 * and its transactions go back to the pool).
 *
 * Owns Duties: when each command is due. What a command does is the machine's; how it reaches the
 * committee is the command bus's.
 */
import { hexToBytes } from '@ethereumjs/util'
import { leaderFor, takeoverRank } from '../../machine/index.ts'
import type { SlotBoundary } from '../../chain/index.ts'
import type { Config } from '../../config/index.ts'
import type { AtelierMachine, ApplyResult } from '../../machine/index.ts'
import type { InputPool } from '../ingestion.ts'
import type { Logger } from '../log.ts'
import type { NodeMetrics } from '../metrics.ts'
import type { CommandBus } from './command-bus.ts'
import type { HintBook } from './hint-book.ts'
import type { SlotTable } from './slot-table.ts'

const NO_BUNDLE = { txs: [], revertProtected: false }
const DEFAULT_EXTRA_DATA = new TextEncoder().encode('atelier')

/** The protocol's rule: a block's gas limit moves from its parent's by less than 1/1024 of it. */
export function nextGasLimit (parent: bigint, target: bigint = parent): bigint {
  const step = parent / 1024n - 1n
  if (target > parent) { return parent + (target - parent < step ? target - parent : step) }
  if (target < parent) { return parent - (parent - target < step ? parent - target : step) }
  return parent
}

export interface DutiesOptions {
  index: number
  config: Config
  machine: AtelierMachine
  bus: CommandBus
  table: SlotTable
  pool: InputPool
  hints: HintBook
  metrics: NodeMetrics
  log: Logger
  /** the coinbase of the slots this member leads */
  feeRecipient?: Uint8Array
  /** seconds between a parent and the block built on it */
  slotSeconds?: number
  /** the header's extra data (≤ 32 bytes; default `atelier`) */
  extraData?: Uint8Array
  /** the gas limit blocks move toward by the protocol's 1/1024 rule (default: the parent's) */
  gasLimitTarget?: bigint
  stopped(): boolean
}

export class Duties {
  readonly #o: DutiesOptions
  #head = -1

  constructor (options: DutiesOptions) {
    this.#o = options
  }

  /** The newest parent block seen. */
  get head (): number {
    return this.#head
  }

  /** A new head: retire what is deep enough, then open the next slot if this member leads it. */
  async onSlot (b: SlotBoundary): Promise<void> {
    const { index, config, machine, table, pool, hints, bus, metrics, log } = this.#o
    this.#head = Math.max(this.#head, b.parentNumber)
    await this.retire(b.parentNumber)
    if (leaderFor(b.slot, config.committeeSize) !== index || machine.slotSpec(b.slot) != null || table.isSealed(b.slot)) {
      return
    }
    const collected = hints.for(b.slot)
    const open = {
      slot: b.slot,
      parent: hexToBytes(b.parentHash as `0x${string}`),
      parentNumber: b.parentNumber,
      timestamp: b.timestamp + (this.#o.slotSeconds ?? 12),
      feeRecipient: this.#o.feeRecipient ?? new Uint8Array(20),
      prevRandao: hexToBytes((b.parent.mixHash ?? `0x${'00'.repeat(32)}`) as `0x${string}`),
      gasLimit: Number(nextGasLimit(BigInt(b.parent.gasLimit), this.#o.gasLimitTarget)),
      leaderIndex: index,
      hintCount: collected.length,
      unsealed: pool.unsealedFor(),
      auctionWinner: pool.auctionWinnerFor(b.slot) ?? NO_BUNDLE,
      extraData: this.#o.extraData ?? DEFAULT_EXTRA_DATA,
      // the consensus layer's payload attributes give these; until a beacon source feeds the member,
      // the chain's own convention (anvil: zero root, no withdrawals)
      parentBeaconBlockRoot: new Uint8Array(32),
      withdrawals: []
    }
    const r = await bus.applyLocal('OpenSlot', open)
    if (!r.ok) { return }
    metrics.slotsOpened.inc()
    log.info('slot-opened', { slot: b.slot, txs: open.unsealed.length, hints: collected.length, auction: open.auctionWinner.txs.length, openedAt: Date.now() })
    for (let i = 0; i < collected.length; i++) {
      await bus.applyLocal('AcceptHint', { slot: b.slot, sequence: i, hint: collected[i] })
    }
  }

  /** OpenSlot applied: members after the leader wait their turn to seal, rank by rank. */
  scheduleTakeover (slot: number): void {
    const { config, index, table, log } = this.#o
    const rank = takeoverRank(slot, config.committeeSize, index)
    if (rank === 0) { return }
    table.get(slot)?.after(rank * config.tuning.leaderTimeoutMs, () => {
      log.warn('leader-takeover', { slot, rank })
      void this.seal(slot)
    })
  }

  /** A simulation was recorded: the leader seals at once when a strict majority it belongs to agrees. */
  maybeSeal (slot: number): void {
    const { config, index } = this.#o
    if (takeoverRank(slot, config.committeeSize, index) !== 0) { return }
    // a strict majority seals at once (the design): waiting for more signers only adds latency, and a
    // candidate is exactly as valid with a majority as with everyone
    void this.seal(slot)
  }

  /** Issues SealCandidate for the agreed output, if there is one and this member is behind it. */
  async seal (slot: number): Promise<void> {
    const { machine, table, bus, index } = this.#o
    const ctx = table.get(slot)
    if (ctx == null || ctx.sealed || this.#o.stopped()) { return }
    const agreement = machine.query({ type: 'SimulationAgreement', slot })
    if (agreement?.outputHash == null || !agreement.members.includes(index)) { return }
    ctx.sealing = true
    await bus.applyLocal('SealCandidate', { slot, outputHash: agreement.outputHash, signers: agreement.members })
  }

  /** Retires every slot `markDoneDepth` or more behind `head`. */
  async retire (head: number): Promise<void> {
    const { machine, table, config } = this.#o
    const floor = head - config.tuning.markDoneDepth + 1
    const open = machine.query({ type: 'OpenSlots' }).filter(s => s < floor)
    const sealed = new Set(table.retireBelow(floor).filter(c => c.sealed).map(c => c.slot))
    for (const slot of open) {
      await this.#markDone(slot, sealed.has(slot))
    }
  }

  /** Retires one slot now, whatever the head (an integrator's hook: GC on the refunds tally). */
  async retireSlot (slot: number): Promise<ApplyResult> {
    return this.#markDone(slot, this.#o.table.drop(slot)?.sealed === true)
  }

  async #markDone (slot: number, kept: boolean): Promise<ApplyResult> {
    const { machine, pool, bus, metrics, log } = this.#o
    const spec = machine.slotSpec(slot)
    if (spec != null && !kept && machine.query({ type: 'CandidateFor', slot }) == null) {
      metrics.slotsMissed.inc()
      pool.release(slot, spec.open.unsealed)
      log.warn('slot-missed', { slot })
    }
    const r = await machine.apply({ type: 'MarkDone', value: { slot } })
    await bus.forget(slot)
    return r
  }
}
