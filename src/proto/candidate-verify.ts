/**
 * Pure verification of a sealed candidate against a pinned committee roster: the light subscriber's
 * whole trust decision, so every check names why it failed.
 */
import { blsFastAggregateVerify } from './bls.ts'
import { equalBytes, toHex } from './bytes.ts'
import { candidateSigningRoot } from './signing.ts'
import type { CandidateValue } from './types.ts'

export type CandidateVerdict = { valid: true } | { valid: false, reason: string }

export interface PinnedCommittee {
  /** the 48-byte compressed BLS keys of the configured committee, in roster order */
  roster: Uint8Array[]
  /** `ATELIER_ROOT` (lattice + config fingerprint) the candidate must have been sealed under */
  domainId: Uint8Array
}

export function verifyCandidate (candidate: CandidateValue, committee: PinnedCommittee): CandidateVerdict {
  const signers = candidate.committeeRoster
  if (signers.length === 0) {
    return { valid: false, reason: 'no signers' }
  }
  const known = new Set(committee.roster.map(toHex))
  const seen = new Set<string>()
  for (const signer of signers) {
    const hex = toHex(signer)
    if (!known.has(hex)) {
      return { valid: false, reason: `signer ${hex.slice(0, 16)}… is not in the pinned roster` }
    }
    if (seen.has(hex)) {
      return { valid: false, reason: `signer ${hex.slice(0, 16)}… appears twice` }
    }
    seen.add(hex)
  }
  if (signers.length * 2 <= committee.roster.length) {
    return { valid: false, reason: `${signers.length} of ${committee.roster.length} signers is not a strict majority` }
  }
  if (!equalBytes(candidate.header.parentHash, candidate.parentHash)) {
    return { valid: false, reason: 'header parent hash differs from the candidate parent hash' }
  }
  const root = candidateSigningRoot(candidate, committee.domainId)
  if (!blsFastAggregateVerify(root, signers, candidate.builderSig)) {
    return { valid: false, reason: 'aggregate signature does not verify over the signing root (tampered, or sealed under another config)' }
  }
  return { valid: true }
}
