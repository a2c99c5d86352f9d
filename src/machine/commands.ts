import type { CandidateValue, HintAcceptValue, MarkDoneValue, OpenSlotValue, SealCommitValue, SimOutputValue } from '../proto/index.ts'

export type Command =
  | { type: 'OpenSlot', value: OpenSlotValue }
  | { type: 'AcceptHint', value: HintAcceptValue }
  | { type: 'SubmitSimulation', value: SimOutputValue }
  | { type: 'SealCandidate', value: SealCommitValue }
  | { type: 'MarkDone', value: MarkDoneValue }

export type Query =
  | { type: 'OpenSlots' }
  | { type: 'HintsFor', slot: number }
  | { type: 'SimulationAgreement', slot: number }
  | { type: 'CandidateFor', slot: number }

export type RejectCode =
  | 'slot-exists'
  | 'slot-not-open'
  | 'slot-sealed'
  | 'slot-done'
  | 'hint-slot-mismatch'
  | 'hint-sequence'
  | 'hint-duplicate'
  | 'cobuilder-not-allowed'
  | 'bad-hint-signature'
  | 'unknown-member'
  | 'bad-simulation-signature'
  | 'duplicate-simulation'
  | 'equivocation'
  | 'excluded'
  | 'bad-open-signature'
  | 'hint-not-announced'
  | 'no-agreement'
  | 'bad-signer-set'
  | 'local-divergence'
  | 'simulation-failed'
  | 'already-sealed'
  | 'malformed'

export type ApplyResult =
  | { ok: true }
  | { ok: false, code: RejectCode, reason: string }

export const accepted: ApplyResult = { ok: true }

export function rejected (code: RejectCode, reason: string): ApplyResult {
  return { ok: false, code, reason }
}

export interface Agreement {
  outputHash?: Uint8Array
  /** members behind the agreed hash, ascending */
  members: number[]
  tallies: Array<{ outputHash: Uint8Array, members: number[] }>
}

export type QueryResult<Q extends Query> =
  Q extends { type: 'OpenSlots' } ? number[] :
    Q extends { type: 'HintsFor' } ? HintAcceptValue[] :
      Q extends { type: 'SimulationAgreement' } ? Agreement | undefined :
        Q extends { type: 'CandidateFor' } ? CandidateValue | undefined : never
