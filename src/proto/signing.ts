/**
 * Signing roots, Ethereum style: `hashTreeRoot(SigningData { objectRoot, domain })`, where the domain
 * ties a signature to one purpose and one committee configuration (its fingerprint), so a signature
 * made under one config never verifies under another.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import * as T from './types.ts'

export const DomainPurpose = {
  candidate: 'atelier.domain.candidate.v1',
  hint: 'atelier.domain.hint.v1',
  roster: 'atelier.domain.roster.v1'
} as const

export type DomainPurposeName = keyof typeof DomainPurpose

/** `sha256(utf8(purpose) ‖ fingerprint)`: fingerprint is the 32-byte `config.signature()` id. */
export function computeDomain (purpose: DomainPurposeName, fingerprint: Uint8Array): Uint8Array {
  const tag = utf8ToBytes(DomainPurpose[purpose])
  const buf = new Uint8Array(tag.length + fingerprint.length)
  buf.set(tag)
  buf.set(fingerprint, tag.length)
  return sha256(buf)
}

export function computeSigningRoot (objectRoot: Uint8Array, domain: Uint8Array): Uint8Array {
  return T.SigningData.hashTreeRoot({ objectRoot, domain })
}

/** The root every committee member BLS-signs for a candidate, and the simulation output hash. */
export function candidateSigningRoot (
  candidate: Pick<T.CandidateValue, 'slot' | 'parentHash' | 'header' | 'body' | 'hintsApplied'>,
  fingerprint: Uint8Array
): Uint8Array {
  const objectRoot = T.CandidateSignedFields.hashTreeRoot({
    slot: candidate.slot,
    parentHash: candidate.parentHash,
    header: T.CandidateHeader.hashTreeRoot(candidate.header),
    body: T.Transactions.hashTreeRoot(candidate.body),
    hintsApplied: candidate.hintsApplied
  })
  return computeSigningRoot(objectRoot, computeDomain('candidate', fingerprint))
}

export function hintSigningRoot (hint: Pick<T.HintBundleValue, 'slot' | 'coBuilder' | 'template'>, fingerprint: Uint8Array): Uint8Array {
  return T.HintSigningData.hashTreeRoot({
    domain: computeDomain('hint', fingerprint),
    slot: hint.slot,
    coBuilder: hint.coBuilder,
    templateRoot: T.Bundle.hashTreeRoot(hint.template)
  })
}

/** A hint's identity (as listed in `hintsApplied`): the root of the whole signed bundle. */
export function hintId (hint: T.HintBundleValue): Uint8Array {
  return T.HintBundle.hashTreeRoot(hint)
}

export function rosterSigningRoot (fields: T.RosterAnnounceFieldsValue, fingerprint: Uint8Array): Uint8Array {
  return computeSigningRoot(T.RosterAnnounceFields.hashTreeRoot(fields), computeDomain('roster', fingerprint))
}
