import { verifyCandidate } from '../proto/index.ts'
import type { Config } from './config.ts'
import type { CandidateValue, CandidateVerdict } from '../proto/index.ts'

/** Pure: true when the candidate was sealed by a strict majority of `config`'s pinned roster. */
export function verify (candidate: CandidateValue, config: Config): boolean {
  return explainVerify(candidate, config).valid
}

export function explainVerify (candidate: CandidateValue, config: Config): CandidateVerdict {
  return verifyCandidate(candidate, { roster: config.roster, domainId: config.root().bytes })
}
