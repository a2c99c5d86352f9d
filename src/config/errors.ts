export interface ConfigIssue {
  /** dotted path of the offending field, e.g. `committee[2].proofOfPossession` */
  field: string
  message: string
}

/** A config that cannot be used; lists every problem found, each naming its field. */
export class ConfigError extends Error {
  readonly code = 'invalid-config'
  readonly issues: ConfigIssue[]

  constructor (issues: ConfigIssue[], source?: string) {
    const where = source != null ? ` (${source})` : ''
    super(`invalid config${where}:\n${issues.map(i => `  - ${i.field}: ${i.message}`).join('\n')}`)
    this.name = 'ConfigError'
    this.issues = issues
  }
}
