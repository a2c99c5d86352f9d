export type HandshakeErrorCode = 'admission-rejected' | 'refused-by-remote' | 'handshake-junk' | 'handshake-timeout' | 'evidence-unavailable'

/** The attested handshake failed; the connection is aborted inside the upgrade. */
export class AttestedHandshakeError extends Error {
  readonly code: HandshakeErrorCode
  /** the admission reason code, when we refused the remote */
  readonly reason?: string

  constructor (code: HandshakeErrorCode, message: string, reason?: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'AttestedHandshakeError'
    this.code = code
    this.reason = reason
  }
}
