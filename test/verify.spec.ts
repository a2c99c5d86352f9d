import { expect } from 'aegir/chai'
import { explainVerify, parseConfig, verify } from '../src/config/index.ts'
import {
  blsAggregate, blsFastAggregateVerify, blsSign, blsVerify, blsVerifyProofOfPossession, candidateSigningRoot, ethAddressOf,
  recoverHintSigner, signHint, verifyHintSignature
} from '../src/proto/index.ts'
import { configJson, memberKeys, seal, unsignedCandidate } from './fixtures/committee.ts'

const members = memberKeys(4)
const config = parseConfig(configJson(members))
const fp = config.root().bytes

describe('signatures and verify', () => {
  it('BLS: sign, aggregate and fast-aggregate-verify; proof of possession', () => {
    const msg = new Uint8Array(32).fill(9)
    const sigs = members.map(m => blsSign(m.secretKey, msg))
    expect(blsVerify(members[0].publicKey, msg, sigs[0])).to.equal(true)
    expect(blsVerify(members[1].publicKey, msg, sigs[0])).to.equal(false)
    expect(blsFastAggregateVerify(msg, members.map(m => m.publicKey), blsAggregate(sigs))).to.equal(true)
    expect(blsFastAggregateVerify(msg, members.slice(1).map(m => m.publicKey), blsAggregate(sigs))).to.equal(false)
    expect(blsVerifyProofOfPossession(members[0].publicKey, members[0].proofOfPossession)).to.equal(true)
    expect(blsVerifyProofOfPossession(members[0].publicKey, members[1].proofOfPossession)).to.equal(false)
    expect(blsVerify(members[0].publicKey, msg, new Uint8Array(96).fill(1))).to.equal(false)
  })

  it('accepts a candidate sealed by a strict majority', () => {
    expect(verify(seal(unsignedCandidate(), members.slice(0, 3), fp), config)).to.equal(true)
    expect(verify(seal(unsignedCandidate(), members, fp), config)).to.equal(true)
  })

  it('rejects a minority (half is not a majority)', () => {
    const verdict = explainVerify(seal(unsignedCandidate(), members.slice(0, 2), fp), config)
    expect(verdict).to.deep.equal({ valid: false, reason: '2 of 4 signers is not a strict majority' })
  })

  it('rejects a signer outside the roster', () => {
    const outsider = memberKeys(1, 'outsider')
    const verdict = explainVerify(seal(unsignedCandidate(), [...members.slice(0, 3), ...outsider], fp), config)
    expect(verdict.valid).to.equal(false)
    expect(verdict.valid ? '' : verdict.reason).to.match(/not in the pinned roster/)
  })

  it('rejects a duplicated signer', () => {
    const verdict = explainVerify(seal(unsignedCandidate(), [members[0], members[1], members[1]], fp), config)
    expect(verdict.valid ? '' : verdict.reason).to.match(/appears twice/)
  })

  it('rejects a tampered body, header, slot and hint list', () => {
    const sealed = seal(unsignedCandidate(), members.slice(0, 3), fp)
    expect(verify({ ...sealed, body: [...sealed.body, Uint8Array.from([1])] }, config)).to.equal(false)
    expect(verify({ ...sealed, body: [sealed.body[1], sealed.body[0]] }, config)).to.equal(false)
    expect(verify({ ...sealed, header: { ...sealed.header, gasUsed: sealed.header.gasUsed + 1 } }, config)).to.equal(false)
    expect(verify({ ...sealed, slot: sealed.slot + 1 }, config)).to.equal(false)
    expect(verify({ ...sealed, hintsApplied: [] }, config)).to.equal(false)
  })

  it('checks the block before any signature, naming the field: stateRoot, logsBloom, blockHash, body, withdrawals, requests', () => {
    const sealed = seal(unsignedCandidate(), members.slice(0, 3), fp)
    const reason = (c: typeof sealed): string => { const v = explainVerify(c, config); return v.valid ? 'valid' : v.reason }
    const flipped = (b: Uint8Array): Uint8Array => { const c = Uint8Array.from(b); c[0] ^= 1; return c }
    // a header field the block hash commits to, changed: the header no longer hashes to its blockHash
    expect(reason({ ...sealed, header: { ...sealed.header, stateRoot: flipped(sealed.header.stateRoot) } })).to.match(/^blockHash 0x[0-9a-f]{64} does not match the header/)
    expect(reason({ ...sealed, header: { ...sealed.header, logsBloom: flipped(sealed.header.logsBloom) } })).to.match(/^blockHash .* does not match the header/)
    expect(reason({ ...sealed, header: { ...sealed.header, blockHash: flipped(sealed.header.blockHash) } })).to.match(/^blockHash .* does not match the header/)
    expect(reason({ ...sealed, body: [sealed.body[1], sealed.body[0]] })).to.equal('transactionsRoot does not match the body')
    expect(reason({ ...sealed, withdrawals: [] })).to.equal('withdrawalsRoot does not match the withdrawals')
    expect(reason({ ...sealed, executionRequests: [Uint8Array.from([1, 2, 3])] })).to.equal('requestsHash does not match the execution requests')
    expect(reason({ ...sealed, executionRequests: [Uint8Array.from([1, 2]), Uint8Array.from([0, 3])] })).to.match(/ascending/)
    // the same tampering re-hashed into a consistent block is caught by the signature instead
    const rehashed = unsignedCandidate(sealed.slot, sealed.body, { stateRoot: flipped(sealed.header.stateRoot) })
    expect(reason({ ...rehashed, builderSig: sealed.builderSig, committeeRoster: sealed.committeeRoster })).to.match(/aggregate signature does not verify/)
    expect(reason(sealed)).to.equal('valid')
  })

  it('rejects a signer list that does not match the aggregate', () => {
    const sealed = seal(unsignedCandidate(), members.slice(0, 3), fp)
    expect(verify({ ...sealed, committeeRoster: members.slice(1, 4).map(m => m.publicKey) }, config)).to.equal(false)
  })

  it('rejects a candidate sealed under another config fingerprint', () => {
    const other = parseConfig(configJson(members, { chainRpc: 'http://127.0.0.1:9999' }))
    const sealed = seal(unsignedCandidate(), members, other.root().bytes)
    expect(verify(sealed, other)).to.equal(true)
    expect(explainVerify(sealed, config)).to.deep.include({ valid: false })
  })

  it('signing root commits to ATELIER_ROOT: another lattice with the same fingerprint does not verify', () => {
    const relabelled = parseConfig(configJson(members, { lattice: 'another-lattice' }))
    expect(relabelled.signature().toString()).to.equal(config.signature().toString())
    const sealed = seal(unsignedCandidate(), members, fp)
    expect(verify(sealed, config)).to.equal(true)
    expect(verify(sealed, relabelled)).to.equal(false)
  })

  it('signing root commits to the domain id', () => {
    const c = unsignedCandidate()
    expect(candidateSigningRoot(c, fp)).to.not.deep.equal(candidateSigningRoot(c, new Uint8Array(32)))
  })

  it('hint signatures: recover the co-builder address; reject tampering', () => {
    const sk = new Uint8Array(32).fill(7)
    const template = { txs: [Uint8Array.from([2, 1])], revertProtected: false }
    const hint = signHint(sk, 5, template, fp)
    expect(hint.coBuilder).to.deep.equal(ethAddressOf(sk))
    expect(verifyHintSignature(hint, fp)).to.equal(true)
    expect(verifyHintSignature({ ...hint, slot: 6 }, fp)).to.equal(false)
    expect(verifyHintSignature({ ...hint, template: { ...template, revertProtected: true } }, fp)).to.equal(false)
    expect(verifyHintSignature(hint, new Uint8Array(32))).to.equal(false)
    expect(verifyHintSignature({ ...hint, coBuilder: new Uint8Array(20) }, fp)).to.equal(false)
    const badV = Uint8Array.from(hint.signature)
    badV[64] = 27
    expect(recoverHintSigner({ ...hint, signature: badV }, fp)).to.equal(undefined)
    expect(recoverHintSigner({ ...hint, signature: new Uint8Array(65) }, fp)).to.equal(undefined)
  })
})
