import { CodedError } from './errors.ts'

/**
 * Stable reason codes for every way a quote can be refused. Operators grep logs and metrics for these;
 * never rename one.
 */
export type QuoteRejectCode =
  | 'malformed-quote'
  | 'unsupported-quote'
  | 'collateral-invalid'
  | 'collateral-expired'
  | 'collateral-not-yet-valid'
  | 'certificate-validity'
  | 'untrusted-root'
  | 'bad-certificate-chain'
  | 'crl-signature'
  | 'revoked'
  | 'bad-collateral-signature'
  | 'bad-qe-report-signature'
  | 'qe-report-binding'
  | 'qe-identity'
  | 'qe-vendor'
  | 'seam-signer'
  | 'fmspc-mismatch'
  | 'bad-signature'
  | 'tcb-status'
  | 'tcb-evaluation-too-old'
  | 'debug'
  | 'td-attributes'
  | 'mrtd-not-allowed'
  | 'rtmr-mismatch'
  | 'binding-mismatch'
  | 'verification-failed'

export class QuoteError extends CodedError<QuoteRejectCode> {}
