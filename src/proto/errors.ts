/** An error with a stable machine-readable `code` (for logs, metrics and tests) and a human message. */
export class CodedError<C extends string = string> extends Error {
  readonly code: C

  constructor (code: C, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/**
 * Thrown when bytes from the wire cannot be decoded into the expected message. `field` names the
 * part that failed (`version`, `kind`, `body[3]`, ...), so a log line tells an operator what was wrong.
 */
export class DecodeError extends Error {
  readonly code = 'decode-error'
  readonly field: string

  constructor (field: string, message: string) {
    super(`cannot decode ${field}: ${message}`)
    this.name = 'DecodeError'
    this.field = field
  }
}
