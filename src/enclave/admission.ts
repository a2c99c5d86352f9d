/**
 * Admission policy: who may join a plane, as what, and until when. One entry point, `admit`, for the
 * p2p layer; member admission needs the operator ticket AND a verified quote AND an allowed MR_TD.
 */
import { decodeJwt } from 'jose'
import { AdmissionError } from './errors.ts'
import { QuoteError } from './quote-errors.ts'
import { verifyTicket } from './tickets.ts'
import type { QuoteVerifierOptions, TdxQuoteVerifier } from './quote-verifier.ts'
import type { TicketRole } from './tickets.ts'
import type { JWK } from 'jose'

export type Role = TicketRole

export type Evidence =
  | { kind: 'tdx', quote: Uint8Array, collateral: unknown, operatorJwt: string }
  | { kind: 'jwt', jwt: string }

export type MemberEvidence = Extract<Evidence, { kind: 'tdx' }>

export interface Admission {
  role: Role
  peerId: string
  /** members only */
  mrtd?: Uint8Array
  /** unix seconds: the earliest of ticket expiry and (members) collateral next update */
  expiresAt: number
}

export interface AdmissionContext {
  /** the remote's libp2p peer id: tickets must name it */
  peerId: string
  /** the report_data the remote's quote must carry (binds both keys and our nonce) */
  expectedReportData: Uint8Array
  /** unix seconds, our own clock */
  now: number
}

export interface AdmissionPolicyOptions {
  /** roles this plane admits */
  accept: readonly Role[]
  mrtdAcl: readonly Uint8Array[]
  rtmrPins?: Partial<Record<0 | 1 | 2 | 3, Uint8Array>>
  operatorJwtKey: JWK
  coBuilderJwtKey: JWK
  readTicketKey: JWK
  tickets?: { issuer?: string, audience?: string }
  verifier: TdxQuoteVerifier
}

export type { QuoteVerifierOptions }

export class AdmissionPolicy {
  readonly accept: readonly Role[]
  readonly #options: AdmissionPolicyOptions

  constructor (options: AdmissionPolicyOptions) {
    this.accept = options.accept
    this.#options = options
  }

  /** Admits the remote or throws `AdmissionError` with a precise code (log it locally; tell the remote less). */
  async admit (evidence: Evidence, ctx: AdmissionContext): Promise<Admission> {
    if (evidence.kind === 'tdx') {
      this.#requireRole('member')
      return this.admitMember(evidence, ctx)
    }
    if (evidence.kind === 'jwt') {
      let claimed: unknown
      try {
        claimed = decodeJwt(evidence.jwt).atelier_role
      } catch (err) {
        throw new AdmissionError('ticket-malformed', `ticket is not a JWT: ${(err as Error).message}`)
      }
      if (claimed === 'cobuilder' || claimed === 'reader') {
        this.#requireRole(claimed)
        return this.#admitTicketHolder(claimed, evidence.jwt, ctx)
      }
      throw new AdmissionError('ticket-role', `a ticket alone admits a co-builder or a reader, not "${String(claimed)}"`)
    }
    throw new AdmissionError('evidence-kind', 'unknown evidence kind')
  }

  async admitMember (evidence: MemberEvidence, ctx: AdmissionContext): Promise<Admission> {
    const o = this.#options
    const ticket = await verifyTicket(evidence.operatorJwt, {
      key: o.operatorJwtKey, role: 'member', expectedSubject: ctx.peerId, now: ctx.now, ...o.tickets
    })
    let verified
    try {
      verified = await o.verifier.verify(evidence.quote, evidence.collateral, ctx.now, {
        mrtdAcl: o.mrtdAcl, rtmrPins: o.rtmrPins, reportData: ctx.expectedReportData
      })
    } catch (err) {
      if (err instanceof QuoteError) {
        throw new AdmissionError(err.code, err.message, { cause: err })
      }
      throw new AdmissionError('quote-unverifiable', `quote could not be verified: ${(err as Error).message}`, { cause: err })
    }
    return { role: 'member', peerId: ctx.peerId, mrtd: verified.mrTd, expiresAt: Math.min(ticket.expiresAt, verified.validUntil) }
  }

  async #admitTicketHolder (role: 'cobuilder' | 'reader', jwt: string, ctx: AdmissionContext): Promise<Admission> {
    const o = this.#options
    const key = role === 'cobuilder' ? o.coBuilderJwtKey : o.readTicketKey
    const ticket = await verifyTicket(jwt, { key, role, expectedSubject: ctx.peerId, now: ctx.now, ...o.tickets })
    return { role, peerId: ctx.peerId, expiresAt: ticket.expiresAt }
  }

  #requireRole (role: Role): void {
    if (!this.accept.includes(role)) {
      throw new AdmissionError('role-not-accepted', `this plane does not admit ${role}s`)
    }
  }
}
