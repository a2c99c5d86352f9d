/**
 * The member's duties on the slot clock: open a slot with the environment its payload attributes
 * give (OpenSlot with the pool, the auction winner and the hints collected, signed, then one
 * AcceptHint each) — at once as its leader, or as the next member by rank once the slot is still
 * unopened `openTimeoutMs` per rank after its building window opened (the previous slot's start);
 * seal it as its opener once a strict majority agrees, or as the next member by rank after
 * `leaderTimeoutMs` per rank; and once the slot clock is `markDoneDepth` slots past a slot, retire it
 * (MarkDone; a slot without a candidate is missed and its transactions go back to the pool).
 *
 * Owns Duties: when each command is due. What a command does is the machine's; how it reaches the
 * committee is the command bus's.
 */
import { hexToBytes } from '@ethereumjs/util'
import { sealRank, takeoverRank } from '../../machine/index.ts'
import { hintId, openSlotSigningRoot } from '../../proto/index.ts'
import type { SlotClock, SlotEnvironment } from '../../beacon/index.ts'
import type { RpcBlock } from '../../chain/index.ts'
import type { Config } from '../../config/index.ts'
import type { AtelierMachine, ApplyResult } from '../../machine/index.ts'
import type { OpenSlotFieldsValue } from '../../proto/index.ts'
import type { InputPool } from '../input-pool.ts'
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
  /** the header's extra data (≤ 32 bytes; default `atelier`) */
  extraData?: Uint8Array
  /** the gas limit blocks move toward by the protocol's 1/1024 rule (default: the parent's) */
  gasLimitTarget?: bigint
  /** the slot clock the opening turns count on */
  clock(): SlotClock
  /** signs an OpenSlot's signing root for `slot`, at most one root per slot ever (its own signing record) */
  signOpen(slot: number, root: Uint8Array): Promise<Uint8Array>
  /** test-only: a faulty image's opener, which also signs and publishes other OpenSlots for the slot */
  equivocate?(fields: OpenSlotFieldsValue): Promise<void>
  stopped(): boolean
  /** a slot was retired without a candidate */
  onMissed?(slot: number): void
  /**
   * since when (unix ms) this member has been connected to the committee without a break (undefined:
   * it is not): a member that was not listening when a slot's building window opened cannot know
   * whether its leader opened it, so it does not take the slot over
   */
  listeningSince?(): number | undefined
}

/**
 * When `member` may open `slot` (unix ms): its building window's start (the previous slot's start)
 * plus `openTimeoutMs` per rank after the leader.
 */
export function openTurnAt (clock: SlotClock, slot: number, committeeSize: number, member: number, openTimeoutMs: number): number {
  return clock.timestampOf(slot - 1) * 1000 + takeoverRank(slot, committeeSize, member) * openTimeoutMs
}

export class Duties {
  readonly #o: DutiesOptions
  #retiredAt = -1
  #retiring: Promise<void> = Promise.resolve()

  constructor (options: DutiesOptions) {
    this.#o = options
  }

  /**
   * The slot's payload attributes name this member's head: it opens the slot with that environment
   * (the proposer's fee recipient, timestamp, prevRandao, withdrawals and parent beacon root, exactly
   * as announced) on that parent when its turn comes — at once if it leads the slot, else once the
   * slot is still unopened at its turn (`openTurnAt`).
   */
  async open (env: SlotEnvironment, parent: RpcBlock): Promise<void> {
    const { index, config, table } = this.#o
    const slot = env.slot
    if (this.#o.stopped() || this.#opened(slot)) { return }
    const rank = takeoverRank(slot, config.committeeSize, index)
    const turnAt = openTurnAt(this.#o.clock(), slot, config.committeeSize, index, config.tuning.openTimeoutMs)
    // the slot's payload attributes came after this rank's turn on the slot clock: the leader cannot
    // have opened before they came either, so each rank still waits its share from their arrival
    // (else every rank opens at once with the leader, and the first OpenSlot to arrive wins)
    const wait = turnAt > Date.now() ? turnAt - Date.now() : rank * config.tuning.openTimeoutMs
    if (rank === 0) {
      await this.#openNow(env, parent)
      return
    }
    const takeOver = (): void => {
      if (this.#opened(slot)) { return }
      const since = this.#o.listeningSince?.()
      const windowStart = this.#o.clock().timestampOf(slot - 1) * 1000
      if (this.#o.listeningSince != null && (since == null || since > windowStart)) {
        // just (re)started or cut off: the leader's OpenSlot may have gone by unseen
        this.#o.log.debug('open-takeover-skipped', { slot, rank, listeningSince: since, windowStart })
        return
      }
      this.#o.log.warn('open-takeover', { slot, rank })
      void this.#openNow(env, parent)
    }
    table.at(slot)?.after(wait, takeOver)
  }

  #opened (slot: number): boolean {
    return this.#o.machine.slotSpec(slot) != null || this.#o.table.isSealed(slot)
  }

  async #openNow (env: SlotEnvironment, parent: RpcBlock): Promise<void> {
    const { index, pool, hints, bus, metrics, log } = this.#o
    const slot = env.slot
    if (this.#o.stopped() || this.#opened(slot)) {
      return
    }
    const parentNumber = Number(BigInt(parent.number))
    if (env.parentBlockNumber !== parentNumber || env.timestamp <= Number(BigInt(parent.timestamp))) {
      log.warn('slot-not-opened', { slot, reason: `the payload attributes give parent number ${env.parentBlockNumber} and timestamp ${env.timestamp}; the parent block is number ${parentNumber} at ${Number(BigInt(parent.timestamp))}` })
      return
    }
    const collected = hints.for(slot)
    const fields = {
      slot,
      parent: hexToBytes(parent.hash as `0x${string}`),
      parentNumber,
      timestamp: env.timestamp,
      feeRecipient: env.feeRecipient,
      prevRandao: env.prevRandao,
      gasLimit: Number(nextGasLimit(BigInt(parent.gasLimit), this.#o.gasLimitTarget)),
      leaderIndex: index,
      hintIds: collected.map(h => hintId(h)),
      unsealed: pool.unsealedFor(),
      auctionWinner: pool.auctionWinnerFor(slot) ?? NO_BUNDLE,
      extraData: this.#o.extraData ?? DEFAULT_EXTRA_DATA,
      parentBeaconBlockRoot: env.parentBeaconBlockRoot,
      withdrawals: env.withdrawals
    }
    let signature: Uint8Array
    try {
      signature = await this.#o.signOpen(slot, openSlotSigningRoot(fields, this.#o.config.root().bytes))
    } catch (err) {
      // this member signed another OpenSlot for the slot before (a restart): it will not sign a second
      log.warn('slot-not-opened', { slot, reason: (err as Error).message })
      return
    }
    const open = { ...fields, signature }
    const r = await bus.applyLocal('OpenSlot', open)
    if (!r.ok) { return }
    await this.#o.equivocate?.(fields)
    metrics.slotsOpened.inc()
    log.info('slot-opened', { slot, parentNumber, txs: open.unsealed.length, hints: collected.length, auction: open.auctionWinner.txs.length, withdrawals: open.withdrawals.length, openedAt: Date.now() })
    for (let i = 0; i < collected.length; i++) {
      await bus.applyLocal('AcceptHint', { slot, sequence: i, hint: collected[i] })
    }
  }

  /** OpenSlot applied: members after the opener wait their turn to seal, rank by rank. */
  scheduleTakeover (slot: number): void {
    const { config, index, table, log, machine } = this.#o
    const opener = machine.slotSpec(slot)?.open.leaderIndex
    if (opener == null) { return }
    const rank = sealRank(opener, config.committeeSize, index)
    if (rank === 0) { return }
    table.get(slot)?.after(rank * config.tuning.leaderTimeoutMs, () => {
      log.warn('leader-takeover', { slot, rank })
      void this.seal(slot)
    })
  }

  /** A simulation was recorded: the opener seals at once when a strict majority it belongs to agrees. */
  maybeSeal (slot: number): void {
    const { index, machine } = this.#o
    if (machine.slotSpec(slot)?.open.leaderIndex !== index) { return }
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

  /**
   * Retires every slot `markDoneDepth` or more behind `currentSlot` on the slot clock. Heads and
   * payload attributes both call it: one retirement runs at a time, and only when the clock moved.
   */
  async retire (currentSlot: number): Promise<void> {
    if (currentSlot <= this.#retiredAt) { return this.#retiring }
    this.#retiredAt = currentSlot
    this.#retiring = this.#retiring.then(async () => this.#retire(currentSlot)).catch(err => {
      this.#o.log.error('retire-failed', { slot: currentSlot, message: (err as Error).message })
    })
    return this.#retiring
  }

  async #retire (currentSlot: number): Promise<void> {
    if (this.#o.stopped()) { return }
    const { machine, table, config } = this.#o
    const floor = currentSlot - config.tuning.markDoneDepth
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
      this.#o.onMissed?.(slot)
    }
    const r = await machine.apply({ type: 'MarkDone', value: { slot } })
    await bus.forget(slot)
    return r
  }
}
