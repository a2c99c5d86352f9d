/**
 * JWT tickets (operator/member, co-builder, reader) with `jose`. A ticket binds a libp2p peer id
 * (`sub`); Noise already proved the remote holds that id's key, so the ticket needs no extra proof.
 */
import { errors, importJWK, jwtVerify, SignJWT } from 'jose'
import { AdmissionError } from './errors.ts'
import type { JWK, JWTPayload } from 'jose'

export type TicketRole = 'member' | 'cobuilder' | 'reader'
export const TICKET_ROLES: readonly TicketRole[] = ['member', 'cobuilder', 'reader']
const ROLE_CLAIM = 'atelier_role'

export interface TicketClaims {
  role: TicketRole
  subject: string
  /** unix seconds */
  expiresAt: number
  issuer?: string
  audience?: string
}

export interface TicketCheck {
  /** the issuer's public key from the config */
  key: JWK
  role: TicketRole
  /** the remote's libp2p peer id, as a string */
  expectedSubject: string
  /** unix seconds; the verifier's own clock */
  now: number
  issuer?: string
  audience?: string
}

/** The one JWS algorithm a key may sign with: a ticket naming any other is refused. */
export function algorithmFor (key: JWK): 'EdDSA' | 'ES256' {
  if (key.kty === 'OKP' && key.crv === 'Ed25519') {
    return 'EdDSA'
  }
  if (key.kty === 'EC' && key.crv === 'P-256') {
    return 'ES256'
  }
  throw new AdmissionError('ticket-key', `unsupported ticket key (kty ${String(key.kty)}, crv ${String(key.crv)}); use Ed25519 or P-256`)
}

export async function issueTicket (claims: TicketClaims, privateKey: JWK): Promise<string> {
  const alg = algorithmFor(privateKey)
  const key = await importJWK(privateKey, alg)
  let jwt = new SignJWT({ [ROLE_CLAIM]: claims.role })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime(claims.expiresAt)
  if (claims.issuer != null) {
    jwt = jwt.setIssuer(claims.issuer)
  }
  if (claims.audience != null) {
    jwt = jwt.setAudience(claims.audience)
  }
  return jwt.sign(key)
}

/** Imported verification keys, per configured JWK (imported once, used for every handshake). */
const imported = new WeakMap<JWK, ReturnType<typeof importJWK>>()

/**
 * Payloads whose signature and claims verified, per configured JWK: a peer shows the same ticket on
 * every connection, and only the time claims can change their verdict, so a hit rechecks those alone.
 */
const verified = new WeakMap<JWK, Map<string, JWTPayload>>()
const VERIFIED_TICKETS = 4096

/** jose's own rule with clockTolerance 0: expired when exp <= now, not yet valid when nbf > now. */
function current (payload: JWTPayload, now: number): boolean {
  return typeof payload.exp === 'number' && now < payload.exp && (payload.nbf == null || payload.nbf <= now)
}

async function verifyJwt (token: string, key: Awaited<ReturnType<typeof importJWK>>, alg: string, check: TicketCheck): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [alg],
      requiredClaims: ['exp', 'sub'],
      currentDate: new Date(check.now * 1000),
      issuer: check.issuer,
      audience: check.audience,
      clockTolerance: 0
    })
    return payload
  } catch (err) {
    throw ticketError(err)
  }
}

/** Verifies a ticket for one role and one peer; throws `AdmissionError` with a `ticket-*` code. */
export async function verifyTicket (token: string, check: TicketCheck): Promise<TicketClaims> {
  const alg = algorithmFor(check.key)
  let keyPromise = imported.get(check.key)
  if (keyPromise == null) {
    const { x, y, kty, crv } = check.key
    keyPromise = importJWK({ kty, crv, x, ...(y != null ? { y } : {}) }, alg)
    imported.set(check.key, keyPromise)
  }
  let byKey = verified.get(check.key)
  if (byKey == null) {
    byKey = new Map()
    verified.set(check.key, byKey)
  }
  const cacheKey = `${check.issuer ?? ''}\0${check.audience ?? ''}\0${token}`
  let payload = byKey.get(cacheKey)
  if (payload == null || !current(payload, check.now)) {
    payload = await verifyJwt(token, await keyPromise, alg, check)
    byKey.delete(cacheKey)
    byKey.set(cacheKey, payload)
    if (byKey.size > VERIFIED_TICKETS) {
      byKey.delete(byKey.keys().next().value as string)
    }
  }
  if (payload.sub !== check.expectedSubject) {
    throw new AdmissionError('ticket-subject', `ticket is for peer ${String(payload.sub)}, not ${check.expectedSubject}`)
  }
  if (payload[ROLE_CLAIM] !== check.role) {
    throw new AdmissionError('ticket-role', `ticket grants role ${String(payload[ROLE_CLAIM])}, not ${check.role}`)
  }
  return {
    role: check.role,
    subject: payload.sub,
    expiresAt: payload.exp as number,
    issuer: payload.iss,
    audience: Array.isArray(payload.aud) ? payload.aud[0] : payload.aud
  }
}

function ticketError (err: unknown): AdmissionError {
  if (err instanceof errors.JWTExpired) {
    return new AdmissionError('ticket-expired', 'ticket has expired', { cause: err })
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new AdmissionError('ticket-claims', `ticket claim "${err.claim}" invalid: ${err.reason}`, { cause: err })
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new AdmissionError('ticket-alg', 'ticket is signed with an algorithm the configured key does not allow', { cause: err })
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new AdmissionError('ticket-signature', 'ticket signature does not verify under the configured key', { cause: err })
  }
  return new AdmissionError('ticket-malformed', `ticket is not a valid JWS: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
}
