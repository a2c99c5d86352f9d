/**
 * A validator-style slashing-protection record: a member BLS-signs at most one signing root per slot,
 * ever. The record is written (durably, for a persistent implementation) before the signature exists.
 */
import PQueue from 'p-queue'
import { blsSign, equalBytes } from '../proto/index.ts'

export interface SigningRecord {
  /** the root already signed for `slot`, if any */
  get(slot: number): Promise<Uint8Array | undefined>
  /** durably records `root` for `slot`; called only when `get` found none */
  put(slot: number, root: Uint8Array): Promise<void>
}

export class MemorySigningRecord implements SigningRecord {
  readonly #roots = new Map<number, Uint8Array>()

  async get (slot: number): Promise<Uint8Array | undefined> {
    return this.#roots.get(slot)
  }

  async put (slot: number, root: Uint8Array): Promise<void> {
    this.#roots.set(slot, root)
  }
}

export class DoubleSignError extends Error {
  readonly code = 'double-sign'
  readonly slot: number

  constructor (slot: number) {
    super(`refusing to sign a second, different root for slot ${slot}`)
    this.name = 'DoubleSignError'
    this.slot = slot
  }
}

/**
 * Signs through the record: the same root again is fine (a resend), a different one never. Signs run
 * one at a time, in call order (a check-then-put must not interleave with another); one that throws
 * does not hold up the next.
 */
export class SafeSigner {
  readonly #secretKey: Uint8Array
  readonly #record: SigningRecord
  readonly #queue = new PQueue({ concurrency: 1 })

  constructor (secretKey: Uint8Array, record: SigningRecord) {
    this.#secretKey = secretKey
    this.#record = record
  }

  async sign (slot: number, root: Uint8Array): Promise<Uint8Array> {
    const run = async (): Promise<Uint8Array> => {
      const previous = await this.#record.get(slot)
      if (previous != null && !equalBytes(previous, root)) {
        throw new DoubleSignError(slot)
      }
      if (previous == null) {
        await this.#record.put(slot, root)
      }
      return blsSign(this.#secretKey, root)
    }
    return this.#queue.add(run)
  }
}
