/**
 * What this node shows a remote in the attested handshake. Quote generation is the expensive part
 * (≈1 s through configfs-tsm, one at a time), so it is bounded: at most `maxPending` handshakes may wait
 * for a quote; beyond that a handshake fails at once instead of queueing work an attacker chose.
 * Quotes are never reused: each is bound to one verifier's nonce (see the README).
 */
import { AttestedHandshakeError } from './errors.ts'
import type { Evidence, QuoteProvider } from '../enclave/index.ts'

export interface EvidenceSource {
  /** evidence whose quote (if any) carries exactly `reportData` */
  evidence(reportData: Uint8Array): Promise<Evidence>
}

export class MemberEvidenceSource implements EvidenceSource {
  readonly #provider: QuoteProvider
  readonly #operatorJwt: () => string
  readonly #maxPending: number
  #pending = 0

  constructor (provider: QuoteProvider, operatorJwt: string | (() => string), maxPending = 16) {
    this.#provider = provider
    this.#operatorJwt = typeof operatorJwt === 'string' ? () => operatorJwt : operatorJwt
    this.#maxPending = maxPending
  }

  async evidence (reportData: Uint8Array): Promise<Evidence> {
    if (this.#pending >= this.#maxPending) {
      throw new AttestedHandshakeError('evidence-unavailable', `${this.#pending} handshakes already wait for a quote`)
    }
    this.#pending++
    try {
      const { quote, collateral } = await this.#provider.getQuote(reportData)
      return { kind: 'tdx', quote, collateral, operatorJwt: this.#operatorJwt() }
    } finally {
      this.#pending--
    }
  }
}

/** A co-builder's or reader's ticket. */
export class TicketEvidenceSource implements EvidenceSource {
  readonly #jwt: () => string

  constructor (jwt: string | (() => string)) {
    this.#jwt = typeof jwt === 'string' ? () => jwt : jwt
  }

  async evidence (): Promise<Evidence> {
    return { kind: 'jwt', jwt: this.#jwt() }
  }
}
