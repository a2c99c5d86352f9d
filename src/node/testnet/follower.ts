/**
 * The testnet's follower: a light subscriber (a `Reader` with a read ticket) that verifies every
 * candidate against the pinned roster and keeps them by slot, for the run's lines, its figures and
 * the proposer, which asks it for a slot's candidate on a given parent until a deadline.
 *
 * Owns TestnetFollower.
 */
import { Reader } from '../../p2p/index.ts'
import { toHex } from '../../proto/index.ts'
import type { Config } from '../../config/index.ts'
import type { CandidateValue } from '../../proto/index.ts'
import type { PrivateKey } from '@libp2p/interface'

export interface FollowerOptions {
  config: Config
  ticket: { key: PrivateKey, jwt: string }
  bootstrap: string[]
  /** a verified candidate arrived */
  onCandidate?(c: CandidateValue): void
}

export class TestnetFollower {
  readonly candidates = new Map<number, CandidateValue>()
  /** wall-clock ms when each slot's candidate was verified */
  readonly verifiedAt = new Map<number, number>()
  readonly reader: Reader
  #waiters: Array<() => void> = []
  #stopped = false

  private constructor (reader: Reader) {
    this.reader = reader
  }

  static async start (o: FollowerOptions): Promise<TestnetFollower> {
    const reader = await Reader.start({ config: o.config, ticket: o.ticket.jwt, privateKey: o.ticket.key, bootstrap: o.bootstrap })
    const follower = new TestnetFollower(reader)
    void (async () => {
      for await (const c of reader) {
        follower.verifiedAt.set(c.slot, Date.now())
        follower.candidates.set(c.slot, c)
        follower.#wake()
        o.onCandidate?.(c)
      }
    })()
    return follower
  }

  #wake (): void {
    for (const w of this.#waiters.splice(0)) { w() }
  }

  async #next (maxMs: number): Promise<void> {
    await new Promise<void>(resolve => {
      const t = setTimeout(resolve, Math.max(1, maxMs))
      this.#waiters.push(() => { clearTimeout(t); resolve() })
    })
  }

  /** Resolves once `count` candidates are verified (or `timeoutMs` passes: rejects). */
  async waitFor (count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.candidates.size < count) {
      if (Date.now() > deadline || this.#stopped) {
        throw new Error(`only ${this.candidates.size} of ${count} candidates verified within ${timeoutMs} ms`)
      }
      await this.#next(500)
    }
  }

  /** The verified candidate for `slot` on `parentHash`, once it arrives, or undefined at `deadline`. */
  async candidateBy (slot: number, parentHash: string, deadline: number): Promise<CandidateValue | undefined> {
    const matching = (): CandidateValue | undefined => {
      const c = this.candidates.get(slot)
      return c != null && `0x${toHex(c.header.parentHash)}` === parentHash.toLowerCase() ? c : undefined
    }
    while (matching() == null && Date.now() < deadline && !this.#stopped) {
      await this.#next(Math.min(500, deadline - Date.now()))
    }
    return matching()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    this.#wake()
    await this.reader.stop().catch(() => {})
  }
}
