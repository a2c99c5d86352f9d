/**
 * The command bus: every slot command this member applies to its machine goes through here, whether
 * it issued the command (then it is gossiped to the committee once applied) or received it. It owns
 * the reorder buffer (gossip keeps no order: a command that arrives before what it builds on waits in
 * its slot's context and is retried after that slot's next applied command), the command log that
 * rebuilds in-flight slots after a restart, and its replay.
 *
 * Owns CommandBus. Uses the slot table; the reactions to an applied command are injected (`after`).
 */
import { decodeAnyMessage, encodeMessage } from '../../proto/index.ts'
import type { AtelierMachine, ApplyResult, Command, RejectCode } from '../../machine/index.ts'
import type { CandidateValue, MessageValues } from '../../proto/index.ts'
import type { SlotMessageKind } from '../../topics/index.ts'
import type { Logger } from '../log.ts'
import type { NodeStore } from '../store.ts'
import type { SlotTable } from './slot-table.ts'

export type SlotCommandValue = MessageValues[SlotMessageKind]

/** commands held per slot for a later retry, at most */
export const MAX_BUFFERED_PER_SLOT = 256

/** rejections that mean "arrived before what it builds on": held and retried */
const EARLY: ReadonlySet<RejectCode> = new Set(['slot-not-open', 'bad-signer-set', 'hint-sequence'])
/**
 * rejections of a repeat of what this member already holds, or of what the evidence book reports
 * (equivocation, an excluded member): dropped without a word here
 */
const REPEAT: ReadonlySet<RejectCode> = new Set(['duplicate-simulation', 'already-sealed', 'slot-exists', 'equivocation', 'excluded'])
/**
 * rejections of what came after the slot sealed (a slower member's simulation or hint, this member's
 * own when it was the slow one): every slot has some, so they are logged at debug, not as warnings
 */
const LATE: ReadonlySet<RejectCode> = new Set(['slot-sealed'])

export interface CommandBusOptions {
  machine: AtelierMachine
  store: Pick<NodeStore, 'appendCommand' | 'dropCommands' | 'commands' | 'getCandidate'>
  table: SlotTable
  /** gossips a command this member issued, once applied */
  publish(kind: SlotMessageKind, value: SlotCommandValue): Promise<void>
  /** what the member does once a command is applied (open, simulate, seal: the duties) */
  after(kind: SlotMessageKind, slot: number, value: SlotCommandValue): Promise<void>
  log: Logger
}

export class CommandBus {
  readonly #o: CommandBusOptions
  /** command-log writes in flight */
  readonly #writes = new Set<Promise<void>>()
  #seq = 0

  constructor (options: CommandBusOptions) {
    this.#o = options
  }

  /** Applies a command this member issued and gossips it; a refusal is logged (it is a local bug). */
  async applyLocal (kind: SlotMessageKind, value: SlotCommandValue): Promise<ApplyResult> {
    const r = await this.apply(kind, value)
    if (r.ok) {
      await this.#o.publish(kind, value)
    } else {
      this.#o.log[LATE.has(r.code) ? 'debug' : 'warn']('local-command-rejected', { kind, code: r.code, reason: r.reason })
    }
    return r
  }

  /** Applies a command from the committee; one that arrived early waits in its slot's buffer. */
  async applyRemote (kind: SlotMessageKind, value: SlotCommandValue): Promise<void> {
    const r = await this.apply(kind, value)
    if (r.ok || REPEAT.has(r.code)) { return }
    if (EARLY.has(r.code)) {
      const ctx = this.#o.table.at(value.slot)
      if (ctx != null && ctx.buffered.length < MAX_BUFFERED_PER_SLOT) {
        ctx.buffered.push({ type: kind, value } as Command)
      }
      return
    }
    this.#o.log[LATE.has(r.code) ? 'debug' : 'warn']('remote-command-rejected', { kind, code: r.code, reason: r.reason })
  }

  /** Applies a command, logs it for a restart (unless replaying), reacts, then retries what waited. */
  async apply (kind: SlotMessageKind, value: SlotCommandValue, replay = false): Promise<ApplyResult> {
    const slot = value.slot
    const r = await this.#o.machine.apply({ type: kind, value } as Command)
    if (!r.ok) { return r }
    if (!replay) {
      // logged, not awaited: the slot goes on while LevelDB writes (a thread-pool hop that took tens
      // of ms on a loaded machine); retiring a slot and stopping wait for the writes in flight
      this.#track(this.#o.store.appendCommand(slot, this.#seq++, encodeMessage(kind, value as never)))
    }
    await this.#o.after(kind, slot, value)
    await this.#retryBuffered(slot)
    return r
  }

  /**
   * Rebuilds in-flight slots from the command log after a restart (the signing record stays binding):
   * a slot whose candidate is stored is handed to `stored` instead of replayed.
   */
  async replay (stored: (candidate: CandidateValue) => void): Promise<number> {
    const log = await this.#o.store.commands()
    this.#seq = log.reduce((max, c) => Math.max(max, c.seq + 1), 0)
    for (const { slot, message } of log) {
      const candidate = await this.#o.store.getCandidate(slot)
      if (candidate != null) {
        stored(candidate)
        continue
      }
      const m = decodeAnyMessage(message) as { kind: SlotMessageKind, value: SlotCommandValue }
      await this.apply(m.kind, m.value, true)
    }
    return log.length
  }

  /** Waits for the command-log writes in flight. */
  async settled (): Promise<void> {
    await Promise.all([...this.#writes])
  }

  /** Forgets a retired slot's logged commands (after the writes in flight). */
  async forget (slot: number): Promise<void> {
    await this.settled()
    await this.#o.store.dropCommands(slot)
  }

  async #retryBuffered (slot: number): Promise<void> {
    const ctx = this.#o.table.get(slot)
    if (ctx == null || ctx.buffered.length === 0) { return }
    const waiting = ctx.buffered.splice(0)
    for (const cmd of waiting) {
      await this.applyRemote(cmd.type as SlotMessageKind, cmd.value as SlotCommandValue)
    }
  }

  #track (write: Promise<void>): void {
    const tracked = write.catch(err => { this.#o.log.error('command-log-write-failed', { message: (err as Error).message }) })
    this.#writes.add(tracked)
    void tracked.finally(() => this.#writes.delete(tracked))
  }
}
