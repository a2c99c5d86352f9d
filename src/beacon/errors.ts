/** Typed failures of the consensus-layer bridge: what went wrong, in words an operator can act on. */
import { CodedError } from '../proto/index.ts'

export type BeaconErrorCode =
  /** the beacon API did not answer (connection refused, timeout, HTTP error) */
  | 'beacon-unreachable'
  /** the beacon API answered with something that is not what its specification says */
  | 'beacon-bad-response'
  /** one `payload_attributes` event was malformed or impossible; it is dropped */
  | 'beacon-bad-event'

export class BeaconError extends CodedError<BeaconErrorCode> {}
