import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { AdmissionError, AdmissionPolicy, attestationReportData, issueTicket, TdxQuoteVerifier } from '../src/enclave/index.ts'
import { TestTd } from '../src/testing/index.ts'
import { issuerKeys } from './fixtures/committee.ts'
import { rejectsWith } from './fixtures/errors.ts'
import { nowSecs } from './fixtures/tdx.ts'
import type { IssuerKeys } from './fixtures/committee.ts'
import type { AdmissionContext, Role } from '../src/enclave/index.ts'

const MRTD_A = new Uint8Array(48).fill(0xa1)
const MRTD_B = new Uint8Array(48).fill(0xb2)

const rejection = async (p: Promise<unknown>): Promise<AdmissionError> => rejectsWith(p, AdmissionError)

describe('enclave: admission policy', function () {
  this.timeout(30_000)
  let td: TestTd
  let operator: IssuerKeys
  let cobuilder: IssuerKeys
  let reader: IssuerKeys
  let peerId: string
  let ctx: AdmissionContext
  const nonce = new Uint8Array(32).fill(5)
  const verifierKey = new Uint8Array(36).fill(6)
  let proverKey: Uint8Array

  const policy = (accept: Role[]): AdmissionPolicy => new AdmissionPolicy({
    accept,
    mrtdAcl: [MRTD_A, MRTD_B],
    operatorJwtKey: operator.publicJwk,
    coBuilderJwtKey: cobuilder.publicJwk,
    readTicketKey: reader.publicJwk,
    verifier: new TdxQuoteVerifier({ trustedRootDer: td.rootDer })
  })

  before(async () => {
    td = await TestTd.create()
    ;[operator, cobuilder, reader] = await Promise.all([issuerKeys(), issuerKeys(), issuerKeys('ES256')])
    const key = await generateKeyPair('Ed25519')
    peerId = peerIdFromPrivateKey(key).toString()
    proverKey = key.publicKey.raw
    ctx = { peerId, expectedReportData: attestationReportData(proverKey, verifierKey, nonce), now: nowSecs() }
  })

  const memberEvidence = async (mrTd: Uint8Array, reportData: Uint8Array, ticketExp = nowSecs() + 3600): Promise<{ kind: 'tdx', quote: Uint8Array, collateral: unknown, operatorJwt: string }> => ({
    kind: 'tdx',
    quote: await td.quote(reportData, { mrTd }),
    collateral: td.collateral,
    operatorJwt: await issueTicket({ role: 'member', subject: peerId, expiresAt: ticketExp }, operator.privateJwk)
  })

  it('admits a member with a bound quote, an allowed MR_TD (either of the acl) and an operator ticket', async () => {
    for (const mrTd of [MRTD_A, MRTD_B]) {
      const admission = await policy(['member']).admit(await memberEvidence(mrTd, ctx.expectedReportData), ctx)
      expect(admission.role).to.equal('member')
      expect(admission.mrtd).to.deep.equal(mrTd)
      expect(admission.peerId).to.equal(peerId)
    }
  })

  it('expires a member admission at the earliest of ticket expiry and collateral next update', async () => {
    const soon = nowSecs() + 120
    const admission = await policy(['member']).admit(await memberEvidence(MRTD_A, ctx.expectedReportData, soon), ctx)
    expect(admission.expiresAt).to.equal(soon)
    const later = await policy(['member']).admit(await memberEvidence(MRTD_A, ctx.expectedReportData, nowSecs() + 365 * 86_400), ctx)
    expect(later.expiresAt).to.be.below(nowSecs() + 31 * 86_400)
  })

  it('rejects a member whose MR_TD is outside the acl', async () => {
    const err = await rejection(policy(['member']).admit(await memberEvidence(new Uint8Array(48).fill(0xcc), ctx.expectedReportData), ctx))
    expect(err.code).to.equal('mrtd-not-allowed')
  })

  it('rejects a replayed quote: bound to another verifier key or nonce', async () => {
    const otherNonce = attestationReportData(proverKey, verifierKey, new Uint8Array(32).fill(9))
    expect((await rejection(policy(['member']).admit(await memberEvidence(MRTD_A, otherNonce), ctx))).code).to.equal('binding-mismatch')
    const otherVerifier = attestationReportData(proverKey, new Uint8Array(36).fill(7), nonce)
    expect((await rejection(policy(['member']).admit(await memberEvidence(MRTD_A, otherVerifier), ctx))).code).to.equal('binding-mismatch')
  })

  it('rejects a valid quote without a valid operator ticket', async () => {
    const evidence = await memberEvidence(MRTD_A, ctx.expectedReportData)
    const forged = await issueTicket({ role: 'member', subject: peerId, expiresAt: nowSecs() + 60 }, cobuilder.privateJwk)
    expect((await rejection(policy(['member']).admit({ ...evidence, operatorJwt: forged }, ctx))).code).to.equal('ticket-signature')
    const expired = await issueTicket({ role: 'member', subject: peerId, expiresAt: nowSecs() - 1 }, operator.privateJwk)
    expect((await rejection(policy(['member']).admit({ ...evidence, operatorJwt: expired }, ctx))).code).to.equal('ticket-expired')
  })

  it('admits co-builders and readers by their tickets, only where the plane accepts them', async () => {
    const cb = await issueTicket({ role: 'cobuilder', subject: peerId, expiresAt: nowSecs() + 60 }, cobuilder.privateJwk)
    const rd = await issueTicket({ role: 'reader', subject: peerId, expiresAt: ctx.now + 60 }, reader.privateJwk)
    const pub = policy(['member', 'cobuilder', 'reader'])
    expect((await pub.admit({ kind: 'jwt', jwt: cb }, ctx)).role).to.equal('cobuilder')
    expect((await pub.admit({ kind: 'jwt', jwt: rd }, ctx))).to.deep.include({ role: 'reader', expiresAt: ctx.now + 60 })
    const priv = policy(['member'])
    expect((await rejection(priv.admit({ kind: 'jwt', jwt: rd }, ctx))).code).to.equal('role-not-accepted')
    expect((await rejection(priv.admit({ kind: 'jwt', jwt: cb }, ctx))).code).to.equal('role-not-accepted')
  })

  it('rejects a reader ticket that claims the co-builder role (signed by the read-ticket key)', async () => {
    const claimed = await issueTicket({ role: 'cobuilder', subject: peerId, expiresAt: nowSecs() + 60 }, reader.privateJwk)
    expect((await rejection(policy(['cobuilder', 'reader']).admit({ kind: 'jwt', jwt: claimed }, ctx))).code).to.be.oneOf(['ticket-alg', 'ticket-signature'])
  })

  it('refuses a member ticket presented without a quote', async () => {
    const op = await issueTicket({ role: 'member', subject: peerId, expiresAt: nowSecs() + 60 }, operator.privateJwk)
    expect((await rejection(policy(['member', 'reader']).admit({ kind: 'jwt', jwt: op }, ctx))).code).to.equal('ticket-role')
  })
})
