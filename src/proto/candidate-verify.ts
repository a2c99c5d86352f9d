/**
 * Pure verification of a sealed candidate against a pinned committee roster: the light subscriber's
 * whole trust decision, so every check names why it failed.
 */
import { blsFastAggregateVerify } from './bls.ts'
import { equalBytes, toHex } from './bytes.ts'
import { executionBlockHash, requestsHashOf, withdrawalsRootOf } from './execution-block.ts'
import { candidateSigningRoot } from './signing.ts'
import { orderedTrieRoot } from './trie-root.ts'
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
  const block = verifyBlock(candidate)
  if (!block.valid) {
    return block
  }
  const root = candidateSigningRoot(candidate, committee.domainId)
  if (!blsFastAggregateVerify(root, signers, candidate.builderSig)) {
    return { valid: false, reason: 'aggregate signature does not verify over the signing root (tampered, or sealed under another config)' }
  }
  return { valid: true }
}

/**
 * The candidate is a consistent execution block: its body, withdrawals and requests match the roots
 * its header commits to, and the header hashes to its `blockHash`. Checked before any signature.
 */
export function verifyBlock (candidate: Pick<CandidateValue, 'header' | 'body' | 'withdrawals' | 'executionRequests'>): CandidateVerdict {
  const h = candidate.header
  if (!equalBytes(orderedTrieRoot(candidate.body), h.transactionsRoot)) {
    return { valid: false, reason: 'transactionsRoot does not match the body' }
  }
  if (!equalBytes(withdrawalsRootOf(candidate.withdrawals), h.withdrawalsRoot)) {
    return { valid: false, reason: 'withdrawalsRoot does not match the withdrawals' }
  }
  let last = -1
  for (const r of candidate.executionRequests) {
    if (r.length < 2 || r[0] <= last || r[0] > 2) {
      return { valid: false, reason: 'executionRequests must be non-empty requests of types 0–2, ascending' }
    }
    last = r[0]
  }
  if (!equalBytes(requestsHashOf(candidate.executionRequests), h.requestsHash)) {
    return { valid: false, reason: 'requestsHash does not match the execution requests' }
  }
  const computed = executionBlockHash(h)
  if (!equalBytes(computed, h.blockHash)) {
    return { valid: false, reason: `blockHash 0x${toHex(h.blockHash)} does not match the header (it hashes to 0x${toHex(computed)})` }
  }
  return { valid: true }
}
