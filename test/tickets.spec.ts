import { expect } from 'aegir/chai'
import { base64url } from 'jose'
import { AdmissionError, issueTicket, verifyTicket } from '../src/enclave/index.ts'
import { issuerKeys } from './fixtures/committee.ts'
import { rejectsWith } from './fixtures/errors.ts'
import type { IssuerKeys } from './fixtures/committee.ts'

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const NOW = 1_750_809_600

const rejection = async (p: Promise<unknown>): Promise<AdmissionError> => rejectsWith(p, AdmissionError)

describe('tickets (JWT)', () => {
  let ed: IssuerKeys
  let p256: IssuerKeys

  before(async () => {
    ed = await issuerKeys('EdDSA')
    p256 = await issuerKeys('ES256')
  })

  it('issues and verifies tickets of every role (Ed25519 and P-256)', async () => {
    for (const role of ['member', 'cobuilder', 'reader'] as const) {
      for (const keys of [ed, p256]) {
        const jwt = await issueTicket({ role, subject: PEER, expiresAt: NOW + 60 }, keys.privateJwk)
        const claims = await verifyTicket(jwt, { key: keys.publicJwk, role, expectedSubject: PEER, now: NOW })
        expect(claims).to.deep.include({ role, subject: PEER, expiresAt: NOW + 60 })
      }
    }
  })

  it('rejects an expired ticket', async () => {
    const jwt = await issueTicket({ role: 'reader', subject: PEER, expiresAt: NOW - 1 }, ed.privateJwk)
    expect((await rejection(verifyTicket(jwt, { key: ed.publicJwk, role: 'reader', expectedSubject: PEER, now: NOW }))).code).to.equal('ticket-expired')
  })

  it('a ticket verified once (and cached) still expires, and still names one peer and one role', async () => {
    const jwt = await issueTicket({ role: 'member', subject: PEER, expiresAt: NOW + 60 }, ed.privateJwk)
    const check = { key: ed.publicJwk, role: 'member' as const, expectedSubject: PEER, now: NOW }
    expect((await verifyTicket(jwt, check)).expiresAt).to.equal(NOW + 60)
    expect((await verifyTicket(jwt, { ...check, now: NOW + 59 })).expiresAt).to.equal(NOW + 60)
    expect((await rejection(verifyTicket(jwt, { ...check, now: NOW + 60 }))).code).to.equal('ticket-expired')
    expect((await rejection(verifyTicket(jwt, { ...check, expectedSubject: `${PEER.slice(0, -1)}x` }))).code).to.equal('ticket-subject')
    expect((await rejection(verifyTicket(jwt, { ...check, role: 'reader' }))).code).to.equal('ticket-role')
    expect((await rejection(verifyTicket(jwt, { ...check, key: p256.publicJwk }))).code).to.equal('ticket-alg')
  })

  it('rejects a ticket for another peer id', async () => {
    const jwt = await issueTicket({ role: 'reader', subject: PEER, expiresAt: NOW + 60 }, ed.privateJwk)
    const err = await rejection(verifyTicket(jwt, { key: ed.publicJwk, role: 'reader', expectedSubject: `${PEER.slice(0, -1)}x`, now: NOW }))
    expect(err.code).to.equal('ticket-subject')
  })

  it('rejects a ticket for another role', async () => {
    const jwt = await issueTicket({ role: 'reader', subject: PEER, expiresAt: NOW + 60 }, ed.privateJwk)
    expect((await rejection(verifyTicket(jwt, { key: ed.publicJwk, role: 'cobuilder', expectedSubject: PEER, now: NOW }))).code).to.equal('ticket-role')
  })

  it('rejects alg: none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))
    const payload = base64url.encode(JSON.stringify({ sub: PEER, exp: NOW + 60, atelier_role: 'reader' }))
    const err = await rejection(verifyTicket(`${header}.${payload}.`, { key: ed.publicJwk, role: 'reader', expectedSubject: PEER, now: NOW }))
    expect(err.code).to.be.oneOf(['ticket-alg', 'ticket-malformed'])
  })

  it('rejects a ticket signed by another key or with another algorithm', async () => {
    const other = await issuerKeys('EdDSA')
    const jwt = await issueTicket({ role: 'reader', subject: PEER, expiresAt: NOW + 60 }, other.privateJwk)
    expect((await rejection(verifyTicket(jwt, { key: ed.publicJwk, role: 'reader', expectedSubject: PEER, now: NOW }))).code).to.equal('ticket-signature')
    const es = await issueTicket({ role: 'reader', subject: PEER, expiresAt: NOW + 60 }, p256.privateJwk)
    expect((await rejection(verifyTicket(es, { key: ed.publicJwk, role: 'reader', expectedSubject: PEER, now: NOW }))).code).to.equal('ticket-alg')
  })

  it('rejects a ticket without exp', async () => {
    const { SignJWT, importJWK } = await import('jose')
    const jwt = await new SignJWT({ atelier_role: 'reader' }).setProtectedHeader({ alg: 'EdDSA' }).setSubject(PEER).sign(await importJWK(ed.privateJwk, 'EdDSA'))
    expect((await rejection(verifyTicket(jwt, { key: ed.publicJwk, role: 'reader', expectedSubject: PEER, now: NOW }))).code).to.equal('ticket-claims')
  })

  it('checks issuer and audience where configured', async () => {
    const jwt = await issueTicket({ role: 'reader', subject: PEER, expiresAt: NOW + 60, issuer: 'ops', audience: 'atelier' }, ed.privateJwk)
    await verifyTicket(jwt, { key: ed.publicJwk, role: 'reader', expectedSubject: PEER, now: NOW, issuer: 'ops', audience: 'atelier' })
    expect((await rejection(verifyTicket(jwt, { key: ed.publicJwk, role: 'reader', expectedSubject: PEER, now: NOW, issuer: 'other' }))).code).to.equal('ticket-claims')
  })

  it('rejects garbage', async () => {
    expect((await rejection(verifyTicket('not.a.jwt', { key: ed.publicJwk, role: 'reader', expectedSubject: PEER, now: NOW }))).code).to.equal('ticket-malformed')
  })
})
