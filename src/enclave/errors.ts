/** An error with a stable machine-readable `code` (for logs, metrics and tests) and a human message. */
export class CodedError<C extends string = string> extends Error {
  readonly code: C

  constructor (code: C, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** Why a peer, ticket or quote was refused. */
export class AdmissionError extends CodedError {}
