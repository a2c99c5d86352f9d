/** Why a peer, ticket or quote was refused; `code` is stable for logs, metrics and tests. */
export class AdmissionError extends Error {
  readonly code: string

  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'AdmissionError'
    this.code = code
  }
}
