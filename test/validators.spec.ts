import { expect } from 'aegir/chai'
import { parseConfig } from '../src/config/index.ts'
import { blsSign, candidateSigningRoot, encodeMessage, MAX_MESSAGE_BYTES, rosterSigningRoot, WIRE_VERSION } from '../src/proto/index.ts'
import { validateCandidate, validateRosterAnnounce, validateSlotMessage } from '../src/topics/index.ts'
import { configJson, memberKeys, seal, unsignedCandidate } from './fixtures/committee.ts'
import { EXAMPLES } from './fixtures/examples.ts'
import type { CandidateTopicContext, SlotTopicContext } from '../src/topics/index.ts'

const members = memberKeys(4)
const config = parseConfig(configJson(members))
const domainId = config.root().bytes
const sealed = seal(unsignedCandidate(9), members.slice(0, 3), domainId)

function candidateCtx (over: Partial<CandidateTopicContext> = {}): CandidateTopicContext {
  return { roster: config.roster, domainId, sourceRole: 'member', originated: true, keptRoot: () => undefined, ...over }
}

const peers = ['peer-0', 'peer-1', 'peer-2', 'peer-3']
function slotCtx (origin: string | undefined, over: Partial<SlotTopicContext> = {}): SlotTopicContext {
  return {
    roster: config.roster,
    view: { indexOf: p => { const i = peers.indexOf(p); return i < 0 ? undefined : i } },
    origin,
    domainId,
    notTurnToOpen: () => undefined,
    ...over
  }
}

describe('topics: gossip validators', () => {
  describe('candidates (public plane)', () => {
    it('accepts a verified candidate from a member', () => {
      expect(validateCandidate(encodeMessage('Candidate', sealed), candidateCtx()).verdict).to.equal('accept')
    })

    it('rejects a candidate any other role originates, and anything from an unadmitted peer', () => {
      for (const sourceRole of ['cobuilder', 'reader', undefined] as const) {
        expect(validateCandidate(encodeMessage('Candidate', sealed), candidateCtx({ sourceRole })).verdict).to.equal('reject')
      }
      expect(validateCandidate(encodeMessage('Candidate', sealed), candidateCtx({ sourceRole: undefined, originated: false })).verdict).to.equal('reject')
    })

    it('accepts a verified candidate a reader forwards (gossipsub relaying), and judges what it forwards like any other', () => {
      expect(validateCandidate(encodeMessage('Candidate', sealed), candidateCtx({ sourceRole: 'reader', originated: false })).verdict).to.equal('accept')
      const minority = { ...sealed, committeeRoster: sealed.committeeRoster.slice(0, 1) }
      expect(validateCandidate(encodeMessage('Candidate', minority), candidateCtx({ sourceRole: 'reader', originated: false })).verdict).to.equal('reject')
    })

    it('rejects malformed SSZ, an unknown wire version, oversize messages and the wrong type', () => {
      const bytes = encodeMessage('Candidate', sealed)
      expect(validateCandidate(bytes.subarray(0, 40), candidateCtx()).verdict).to.equal('reject')
      const v2 = bytes.slice()
      v2[0] = WIRE_VERSION + 1
      expect(validateCandidate(v2, candidateCtx()).reason).to.match(/version/)
      const huge = new Uint8Array(MAX_MESSAGE_BYTES + 1)
      huge.set(bytes.subarray(0, 6))
      expect(validateCandidate(huge, candidateCtx()).verdict).to.equal('reject')
      const wrong = validateCandidate(encodeMessage('SimOutput', EXAMPLES.SimOutput), candidateCtx())
      expect(wrong).to.deep.include({ verdict: 'reject', reason: 'wrong topic for SimOutput' })
    })

    it('rejects a candidate that fails verify; ignores duplicates and rivals of a kept one', () => {
      const minority = seal(unsignedCandidate(9), members.slice(0, 2), domainId)
      expect(validateCandidate(encodeMessage('Candidate', minority), candidateCtx()).reason).to.match(/fails verify/)
      const kept = candidateSigningRoot(sealed, domainId)
      expect(validateCandidate(encodeMessage('Candidate', sealed), candidateCtx({ keptRoot: () => kept }))).to.deep.include({ verdict: 'ignore', reason: 'duplicate' })
      const rival = seal({ ...unsignedCandidate(9), body: [] }, members.slice(1, 4), domainId)
      expect(validateCandidate(encodeMessage('Candidate', rival), candidateCtx({ keptRoot: () => kept })).verdict).to.equal('ignore')
    })
  })

  describe('slot protocol (private plane)', () => {
    const outputHash = new Uint8Array(32).fill(5)
    const sim = (memberIndex: number, signer = memberIndex): Uint8Array => encodeMessage('SubmitSimulation', {
      slot: 9, memberIndex, outputHash, gasEstimate: 1, signature: blsSign(members[signer].secretKey, outputHash)
    })

    it('accepts a simulation from the peer announced for its index', () => {
      expect(validateSlotMessage(sim(2), slotCtx('peer-2')).verdict).to.equal('accept')
    })

    it('rejects a simulation for another member\'s index or with a bad signature', () => {
      expect(validateSlotMessage(sim(2), slotCtx('peer-1')).verdict).to.equal('reject')
      expect(validateSlotMessage(sim(2, 3), slotCtx('peer-2')).reason).to.match(/signature/)
    })

    it('ignores a sender with no roster announcement yet (not its fault)', () => {
      expect(validateSlotMessage(sim(2), slotCtx('stranger')).verdict).to.equal('ignore')
    })

    it('takes an OpenSlot only from the opener it names, and only once its turn has come; AcceptHint from any member (its OpenSlot binds it)', () => {
      const open = encodeMessage('OpenSlot', { ...EXAMPLES.OpenSlot, slot: 9, leaderIndex: 2 })
      expect(validateSlotMessage(open, slotCtx('peer-2')).verdict).to.equal('accept')
      const other = validateSlotMessage(open, slotCtx('peer-1'))
      expect(other.verdict).to.equal('reject')
      expect(other.reason).to.match(/naming opener 2, published by member 1/)
      const early = validateSlotMessage(open, slotCtx('peer-2', { notTurnToOpen: (slot, member) => `member ${member}'s turn to open slot ${slot} comes in 400 ms` }))
      expect(early).to.deep.include({ verdict: 'ignore', reason: 'member 2\'s turn to open slot 9 comes in 400 ms' })
      const hint = encodeMessage('AcceptHint', { ...EXAMPLES.AcceptHint, slot: 9 })
      expect(validateSlotMessage(hint, slotCtx('peer-0')).verdict).to.equal('accept')
    })

    it('takes equivocation evidence that checks out against the roster, and rejects any that does not', () => {
      const a = new Uint8Array(32).fill(1)
      const b = new Uint8Array(32).fill(2)
      const evidence = { kind: 2, slot: 9, member: 3, rootA: a, signatureA: blsSign(members[3].secretKey, a), rootB: b, signatureB: blsSign(members[3].secretKey, b) }
      expect(validateSlotMessage(encodeMessage('Equivocation', evidence), slotCtx('peer-1')).verdict).to.equal('accept')
      const forged = validateSlotMessage(encodeMessage('Equivocation', { ...evidence, signatureB: blsSign(members[2].secretKey, b) }), slotCtx('peer-1'))
      expect(forged).to.deep.include({ verdict: 'reject', reason: 'not evidence: the second signature does not verify' })
      expect(validateSlotMessage(encodeMessage('Equivocation', { ...evidence, rootB: a, signatureB: evidence.signatureA }), slotCtx('peer-1')).reason).to.match(/a repeat, not an equivocation/)
    })

    it('rejects a candidate or roster message on the slot topic', () => {
      expect(validateSlotMessage(encodeMessage('Candidate', sealed), slotCtx('peer-1')).verdict).to.equal('reject')
      expect(validateSlotMessage(encodeMessage('RosterAnnounce', EXAMPLES.RosterAnnounce), slotCtx('peer-1')).verdict).to.equal('reject')
    })
  })

  describe('roster announcements', () => {
    const fp = config.signature().bytes
    const announce = (index: number, fingerprint = fp, peer = `peer-${index}`): Uint8Array => {
      const fields = { ...EXAMPLES.RosterAnnounce, memberIndex: index, blsPublicKey: members[index].publicKey, privatePeerId: new TextEncoder().encode(peer), fingerprint, seq: 1 }
      const { signature: _s, ...unsigned } = fields
      return encodeMessage('RosterAnnounce', { ...unsigned, signature: blsSign(members[index].secretKey, rosterSigningRoot(unsigned, fingerprint)) })
    }

    it('accepts a signed announcement from the peer it names', () => {
      expect(validateRosterAnnounce(announce(1), { roster: config.roster, fingerprint: fp, origin: 'peer-1' }).verdict).to.equal('accept')
    })

    it('rejects one relayed under another peer id, or for a key not pinned at its index', () => {
      expect(validateRosterAnnounce(announce(1), { roster: config.roster, fingerprint: fp, origin: 'peer-2' }).verdict).to.equal('reject')
      const shifted = [config.roster[1], config.roster[0], config.roster[2], config.roster[3]]
      expect(validateRosterAnnounce(announce(1), { roster: shifted, fingerprint: fp, origin: 'peer-1' }).verdict).to.equal('reject')
    })

    it('flags another fingerprint as a mismatch', () => {
      const other = new Uint8Array(32).fill(7)
      const check = validateRosterAnnounce(announce(1, other), { roster: config.roster, fingerprint: fp, origin: 'peer-1' })
      expect(check.mismatch).to.match(/fingerprint/)
    })
  })
})
