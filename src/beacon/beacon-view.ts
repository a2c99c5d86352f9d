/**
 * A member's view of the consensus layer: one beacon node (the member's `beaconApi`), read through
 * `@lodestar/api` — genesis time and slot duration once at start (they define the slot clock), then
 * the `payload_attributes` event stream (EventSource reconnects on its own). Each event is checked
 * (environment.ts) and kept by slot and parent hash; a later event for the same slot and parent
 * replaces the earlier one, as a beacon node re-announces after a re-org or a late block.
 *
 * Bounded: environments for the last `keepSlots` slots, at most `MAX_PARENTS_PER_SLOT` parents each,
 * and no slot more than `MAX_SLOTS_AHEAD` past the clock (a beacon node announces the next slot only).
 */
import { getClient } from '@lodestar/api'
import { createChainForkConfig, defaultChainConfig } from '@lodestar/config'
import { environmentFromEvent } from './environment.ts'
import { BeaconError } from './errors.ts'
import { SlotClock } from './slot-clock.ts'
import type { ParsedPayloadAttributes, SlotEnvironment } from './environment.ts'
import type { ApiClient } from '@lodestar/api'

export const MAX_PARENTS_PER_SLOT = 8
export const MAX_SLOTS_AHEAD = 2
const DEFAULT_KEEP_SLOTS = 64

export interface BeaconViewOptions {
  /** the beacon node's REST API, e.g. http://127.0.0.1:5052 */
  url: string
  /** ms for one REST request (default 10 000) */
  timeoutMs?: number
  /** slots of environments kept (default 64) */
  keepSlots?: number
  /** a checked environment arrived (a new one, or a replacement) */
  onEnvironment?(env: SlotEnvironment): void
  /** an event was dropped or the stream failed; the reason is the error's message */
  onError?(err: BeaconError): void
}

interface Waiter {
  resolve(env: SlotEnvironment | undefined): void
  timer: NodeJS.Timeout
}

/** A Lodestar REST client for one beacon node (the config only picks SSZ types; events carry their fork). */
export function beaconClient (url: string, timeoutMs = 10_000): ApiClient {
  return getClient({ baseUrl: url, globalInit: { timeoutMs, retries: 2, retryDelay: 200 } }, { config: createChainForkConfig(defaultChainConfig) })
}

/** The genesis time and slot duration a beacon node reports: its slot clock. */
export async function fetchSlotClock (url: string, api: ApiClient = beaconClient(url)): Promise<SlotClock> {
  let genesisTime: number
  let spec: Record<string, unknown>
  try {
    genesisTime = (await api.beacon.getGenesis()).value().genesisTime
    spec = (await api.config.getSpec()).value()
  } catch (err) {
    throw new BeaconError('beacon-unreachable', `beacon API ${url}: ${(err as Error).message}`)
  }
  const ms = spec.SLOT_DURATION_MS != null ? Number(spec.SLOT_DURATION_MS) : Number(spec.SECONDS_PER_SLOT) * 1000
  if (!Number.isSafeInteger(ms) || ms < 1000 || ms % 1000 !== 0) {
    throw new BeaconError('beacon-bad-response', `beacon API ${url}: slot duration ${String(spec.SLOT_DURATION_MS ?? spec.SECONDS_PER_SLOT)} is not whole seconds (execution timestamps are seconds)`)
  }
  if (!Number.isSafeInteger(genesisTime) || genesisTime < 0) {
    throw new BeaconError('beacon-bad-response', `beacon API ${url}: genesis time ${genesisTime} is not unix seconds`)
  }
  return new SlotClock(genesisTime, ms / 1000)
}

export class BeaconView {
  readonly clock: SlotClock
  readonly url: string
  readonly #o: BeaconViewOptions
  readonly #api: ApiClient
  readonly #slots = new Map<number, Map<string, SlotEnvironment>>()
  readonly #waiters = new Map<string, Set<Waiter>>()
  readonly #abort = new AbortController()
  #newest = -1

  private constructor (o: BeaconViewOptions, api: ApiClient, clock: SlotClock) {
    this.#o = o
    this.url = o.url
    this.#api = api
    this.clock = clock
  }

  /** Reads the slot clock and subscribes to payload attributes; throws `beacon-unreachable` early. */
  static async connect (o: BeaconViewOptions): Promise<BeaconView> {
    const api = beaconClient(o.url, o.timeoutMs)
    const view = new BeaconView(o, api, await fetchSlotClock(o.url, api))
    await view.#subscribe()
    return view
  }

  async #subscribe (): Promise<void> {
    await this.#api.events.eventstream({
      topics: ['payload_attributes' as never],
      signal: this.#abort.signal,
      onEvent: event => {
        const { version, data } = event.message as { version: string, data: ParsedPayloadAttributes }
        try {
          this.add(environmentFromEvent(version, data, this.clock))
        } catch (err) {
          this.#o.onError?.(err instanceof BeaconError ? err : new BeaconError('beacon-bad-event', (err as Error).message))
        }
      },
      // a parse failure arrives here too: Lodestar's serdes reject what does not fit the type
      onError: err => { this.#o.onError?.(new BeaconError(/ECONN|closed|status/i.test(err.message) ? 'beacon-unreachable' : 'beacon-bad-event', err.message)) }
    })
  }

  /** Keeps one checked environment (the event stream's path; exposed for tests of the member). */
  add (env: SlotEnvironment): void {
    const now = this.clock.current()
    if (env.slot > now + MAX_SLOTS_AHEAD) {
      throw new BeaconError('beacon-bad-event', `payload_attributes: slot ${env.slot} is ${env.slot - now} slots ahead of the clock (slot ${now})`)
    }
    const keep = this.#o.keepSlots ?? DEFAULT_KEEP_SLOTS
    if (env.slot <= this.#newest - keep) { return }
    let parents = this.#slots.get(env.slot)
    if (parents == null) {
      parents = new Map()
      this.#slots.set(env.slot, parents)
    }
    if (!parents.has(env.parentBlockHash) && parents.size >= MAX_PARENTS_PER_SLOT) {
      throw new BeaconError('beacon-bad-event', `payload_attributes: more than ${MAX_PARENTS_PER_SLOT} parents announced for slot ${env.slot}`)
    }
    parents.set(env.parentBlockHash, env)
    if (env.slot > this.#newest) {
      this.#newest = env.slot
      for (const slot of this.#slots.keys()) {
        if (slot <= this.#newest - keep) { this.#slots.delete(slot) }
      }
    }
    const key = `${env.slot}:${env.parentBlockHash}`
    for (const w of this.#waiters.get(key) ?? []) {
      clearTimeout(w.timer)
      w.resolve(env)
    }
    this.#waiters.delete(key)
    this.#o.onEnvironment?.(env)
  }

  /** The environment announced for `slot` on `parentHash`, if any (the latest such event). */
  get (slot: number, parentHash: string): SlotEnvironment | undefined {
    return this.#slots.get(slot)?.get(parentHash.toLowerCase())
  }

  /** The newest slot announced. */
  get newestSlot (): number {
    return this.#newest
  }

  /** The environment for `slot` on `parentHash`, waiting up to `timeoutMs` for its event. */
  async wait (slot: number, parentHash: string, timeoutMs: number): Promise<SlotEnvironment | undefined> {
    const known = this.get(slot, parentHash)
    if (known != null || timeoutMs <= 0 || this.#abort.signal.aborted) { return known }
    const key = `${slot}:${parentHash.toLowerCase()}`
    return new Promise(resolve => {
      const set = this.#waiters.get(key) ?? new Set()
      this.#waiters.set(key, set)
      const w: Waiter = {
        resolve,
        timer: setTimeout(() => {
          set.delete(w)
          if (set.size === 0) { this.#waiters.delete(key) }
          resolve(undefined)
        }, timeoutMs)
      }
      set.add(w)
    })
  }

  stop (): void {
    this.#abort.abort()
    for (const set of this.#waiters.values()) {
      for (const w of set) {
        clearTimeout(w.timer)
        w.resolve(undefined)
      }
    }
    this.#waiters.clear()
  }
}
