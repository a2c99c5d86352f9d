/**
 * Signing roots, Ethereum style: `hashTreeRoot(SigningData { objectRoot, domain })`, where the domain
 * ties a signature to one purpose and one deployment: candidates and hints to `ATELIER_ROOT` (lattice +
 * config fingerprint), roster announcements to the announcer's fingerprint. A signature made under
 * one config, or one lattice, never verifies under another.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import * as T from './types.ts'

export const DomainPurpose = {
  candidate: 'atelier.domain.candidate.v1',
  hint: 'atelier.domain.hint.v1',
  openSlot: 'atelier.domain.open-slot.v1',
  roster: 'atelier.domain.roster.v1'
} as const

export type DomainPurposeName = keyof typeof DomainPurpose

/** `sha256(utf8(purpose) ‖ id)`, `id` a 32-byte UniqueId (`ATELIER_ROOT`, or a config fingerprint). */
export function computeDomain (purpose: DomainPurposeName, id: Uint8Array): Uint8Array {
  const tag = utf8ToBytes(DomainPurpose[purpose])
  const buf = new Uint8Array(tag.length + id.length)
  buf.set(tag)
  buf.set(id, tag.length)
  return sha256(buf)
}

export function computeSigningRoot (objectRoot: Uint8Array, domain: Uint8Array): Uint8Array {
  return T.SigningData.hashTreeRoot({ objectRoot, domain })
}

/** The root every committee member BLS-signs for a candidate, and the simulation output hash. */
export function candidateSigningRoot (
  candidate: Omit<T.CandidateValue, 'builderSig' | 'committeeRoster'>,
  domainId: Uint8Array
): Uint8Array {
  const objectRoot = T.CandidateSignedFields.hashTreeRoot({
    slot: candidate.slot,
    header: T.CandidateHeader.hashTreeRoot(candidate.header),
    body: T.Transactions.hashTreeRoot(candidate.body),
    withdrawals: T.Withdrawals.hashTreeRoot(candidate.withdrawals),
    executionRequests: T.ExecutionRequests.hashTreeRoot(candidate.executionRequests),
    blockValue: candidate.blockValue,
    hintsApplied: candidate.hintsApplied
  })
  return computeSigningRoot(objectRoot, computeDomain('candidate', domainId))
}

export function hintSigningRoot (hint: Pick<T.HintBundleValue, 'slot' | 'coBuilder' | 'template'>, domainId: Uint8Array): Uint8Array {
  return T.HintSigningData.hashTreeRoot({
    domain: computeDomain('hint', domainId),
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

/** The root an opener BLS-signs for an OpenSlot: its slot, its opener and the root of its inputs. */
export function openSlotSigningRoot (open: Omit<T.OpenSlotValue, 'signature'> | T.OpenSlotFieldsValue, domainId: Uint8Array): Uint8Array {
  const { slot, leaderIndex } = open
  return openSlotHeaderSigningRoot(slot, leaderIndex, openSlotInputsRoot(open), domainId)
}

/** The root of an OpenSlot's inputs (everything it fixes; what equivocation evidence names). */
export function openSlotInputsRoot (open: Omit<T.OpenSlotValue, 'signature'> | T.OpenSlotFieldsValue): Uint8Array {
  const fields = Object.fromEntries(Object.keys(T.OpenSlotFields.fields).map(k => [k, (open as Record<string, unknown>)[k]])) as T.OpenSlotFieldsValue
  return T.OpenSlotFields.hashTreeRoot(fields)
}

export function openSlotHeaderSigningRoot (slot: number, leaderIndex: number, inputsRoot: Uint8Array, domainId: Uint8Array): Uint8Array {
  return computeSigningRoot(T.OpenSlotHeader.hashTreeRoot({ slot, leaderIndex, inputsRoot }), computeDomain('openSlot', domainId))
}
