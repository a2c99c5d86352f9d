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
