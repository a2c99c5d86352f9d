/**
 * Who is admitted, as what, until when — per plane. The attested encrypter records admissions; the
 * connection gater refuses any encrypted connection the registry has no live admission for; a timer
 * closes a peer's connections when its admission expires (the registry alone would not).
 */
import type { Admission } from '../enclave/index.ts'
import type { ConnectionGater, PeerId } from '@libp2p/interface'

const MAX_TIMER_MS = 2 ** 31 - 1

export class AdmissionRegistry {
  readonly #entries = new Map<string, Admission>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #now: () => number
  /** called when a peer's admission runs out; the plane hangs up on it */
  onExpire?: (peerId: string, admission: Admission) => void

  constructor (now: () => number = () => Date.now() / 1000) {
    this.#now = now
  }

  record (admission: Admission): void {
    this.#entries.set(admission.peerId, admission)
    this.#schedule(admission.peerId)
  }

  /** The live admission of a peer, or undefined (none, or expired). */
  get (peerId: PeerId | string): Admission | undefined {
    const a = this.#entries.get(peerId.toString())
    return a != null && a.expiresAt > this.#now() ? a : undefined
  }

  roleOf (peerId: PeerId | string): Admission['role'] | undefined {
    return this.get(peerId)?.role
  }

  remove (peerId: string): void {
    this.#entries.delete(peerId)
    clearTimeout(this.#timers.get(peerId))
    this.#timers.delete(peerId)
  }

  get size (): number {
    return this.#entries.size
  }

  stop (): void {
    for (const t of this.#timers.values()) {
      clearTimeout(t)
    }
    this.#timers.clear()
  }

  gater (): ConnectionGater {
    const deny = (peerId: PeerId): boolean => this.get(peerId) == null
    return {
      // loopback and private ranges are where committees and testnets run: address filtering is
      // not this gater's job, admission is
      denyDialMultiaddr: () => false,
      denyInboundEncryptedConnection: deny,
      denyOutboundEncryptedConnection: deny
    }
  }

  #schedule (peerId: string): void {
    clearTimeout(this.#timers.get(peerId))
    const a = this.#entries.get(peerId)
    if (a == null) {
      return
    }
    const ms = Math.max(0, (a.expiresAt - this.#now()) * 1000)
    const timer = setTimeout(() => {
      if (ms > MAX_TIMER_MS) {
        this.#schedule(peerId)
        return
      }
      this.#timers.delete(peerId)
      if (this.#entries.get(peerId) === a) {
        this.#entries.delete(peerId)
        this.onExpire?.(peerId, a)
      }
    }, Math.min(ms, MAX_TIMER_MS))
    timer.unref()
    this.#timers.set(peerId, timer)
  }
}
