/**
 * Where the consensus layer meets the execution head. A slot is due when its payload attributes
 * name the member's head as parent: the beacon node's `payload_attributes` event for slot `s` with
 * `parent_block_hash` = the head the chain RPC reports. Whichever of the two arrives second triggers
 * the slot (an event naming a parent the chain has not shown yet asks for an early head poll); an
 * event for another parent (a fork the beacon node left, or one the chain has not reached) waits in
 * the beacon view, where the OpenSlot check finds it. Every head and every event also moves retirement
 * along the slot clock.
 *
 * Owns SlotTrigger and beaconErrorLog.
 */
import type { BeaconError, SlotEnvironment, SlotClock } from '../../beacon/index.ts'
import type { RpcBlock } from '../../chain/index.ts'
import type { Logger } from '../log.ts'

/**
 * The beacon node's failures for the log: each dropped event (each is one bad input), and a failing
 * stream once per outage (EventSource retries every few seconds; the first event after it ends one).
 */
export function beaconErrorLog (log: Logger): { error(err: BeaconError): void, recovered(): void } {
  let outage: string | undefined
  return {
    error: err => {
      if (err.code === 'beacon-bad-event') {
        log.warn('beacon-event-dropped', { message: err.message })
      } else if (outage !== err.message) {
        outage = err.message
        log.warn('beacon-error', { code: err.code, message: err.message })
      }
    },
    recovered: () => { outage = undefined }
  }
}

export interface SlotTriggerOptions {
  clock: SlotClock
  /** the slot is due: `env` names `parent`, the member's head */
  open(env: SlotEnvironment, parent: RpcBlock): void
  /** the slot clock moved: retire what lies deep enough behind `currentSlot` */
  retire(currentSlot: number): void
  /** asks the head watcher for an early poll */
  pollHead(): void
}

export class SlotTrigger {
  readonly #o: SlotTriggerOptions
  #head?: RpcBlock
  /** the newest announced environment not yet matched by the head */
  #waiting?: SlotEnvironment

  constructor (options: SlotTriggerOptions) {
    this.#o = options
  }

  /** The chain RPC's head. */
  get head (): RpcBlock | undefined {
    return this.#head
  }

  onHead (block: RpcBlock): void {
    this.#head = block
    this.#o.retire(this.#o.clock.current())
    const env = this.#waiting
    if (env != null && env.parentBlockHash === block.hash.toLowerCase()) {
      this.#waiting = undefined
      this.#o.open(env, block)
    }
  }

  onEnvironment (env: SlotEnvironment): void {
    this.#o.retire(this.#o.clock.current())
    const head = this.#head
    if (head != null && env.parentBlockHash === head.hash.toLowerCase()) {
      this.#o.open(env, head)
      return
    }
    if (this.#waiting == null || env.slot >= this.#waiting.slot) {
      this.#waiting = env
      this.#o.pollHead()
    }
  }
}
