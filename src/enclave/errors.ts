import { CodedError } from '../proto/index.ts'

export { CodedError }

/** Why a peer, ticket or quote was refused. */
export class AdmissionError extends CodedError {}
