import { blake3 } from '@noble/hashes/blake3.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { blsVerifyProofOfPossession, compareBytes, concatBytes, fromHex, toHex, WIRE_VERSION } from '../proto/index.ts'
import { atelierRoot, UniqueId } from '../topics/index.ts'
import { ConfigError } from './errors.ts'
import { ConfigSchema } from './schema.ts'
import type { ConfigIssue } from './errors.ts'
import type { ChainPin, ConfigFields, ConfigJson, PublicJwk, Tuning } from './schema.ts'

export interface CommitteeMember {
  blsPublicKey: Uint8Array
  proofOfPossession: Uint8Array
}

/** A validated atelier config. Immutable; its fingerprint (`signature()`) names the committee. */
export class Config {
  readonly lattice: string
  readonly blockSchema: ConfigFields['blockSchema']
  readonly mrtdAcl: Uint8Array[]
  readonly chainRpc: string
  /** the chain's rules as pinned (chain id, fork schedule), if the config pins them */
  readonly chain: ChainPin | undefined
  readonly committee: CommitteeMember[]
  readonly operatorJwtKey: PublicJwk
  readonly coBuilderJwtKey: PublicJwk
  readonly readTicketKey: PublicJwk
  readonly tickets: ConfigFields['tickets']
  readonly tuning: Tuning
  readonly attestation: ConfigFields['attestation']
  readonly json: ConfigFields
  #signature: UniqueId | undefined
  #root: UniqueId | undefined

  constructor (fields: ConfigFields) {
    this.json = fields
    this.lattice = fields.lattice
    this.blockSchema = fields.blockSchema
    this.mrtdAcl = fields.mrtdAcl.map(fromHex)
    this.chainRpc = fields.chainRpc
    this.committee = fields.committee.map(m => ({ blsPublicKey: fromHex(m.blsPublicKey), proofOfPossession: fromHex(m.proofOfPossession) }))
    this.operatorJwtKey = fields.operatorJwtKey
    this.coBuilderJwtKey = fields.coBuilderJwtKey
    this.readTicketKey = fields.readTicketKey
    this.tickets = fields.tickets
    this.tuning = fields.tuning
    this.chain = fields.chain
    this.attestation = fields.attestation
    Object.freeze(this.mrtdAcl)
    Object.freeze(this.committee)
  }

  /** The design's fingerprint tag; every field that changes who may build or what they build from is in it. */
  signatureTag (): string {
    const mrtd = bytesToHex(blake3(concatBytes(...[...this.mrtdAcl].sort(compareBytes))))
    const rpc = bytesToHex(blake3(utf8ToBytes(this.chainRpc)))
    return `atelier.v${WIRE_VERSION}.schema=${this.blockSchema}.mrtd=${mrtd}.rpc=${rpc}.committee=${this.committee.length}`
  }

  signature (): UniqueId {
    this.#signature ??= UniqueId.from(this.signatureTag())
    return this.#signature
  }

  /**
   * The pinned chain rules as one string (`chain=<id>;<fork>@<timestamp>[:<target>/<max>/<fraction>],…`),
   * or undefined when the config pins none. It enters `ATELIER_ROOT` beside the fingerprint (whose tag
   * stays the design's, byte for byte): members with other rules share no topic and no signing domain.
   */
  rulesTag (): string | undefined {
    const c = this.chain
    if (c == null) { return undefined }
    return `chain=${c.chainId};` + c.forks.map(f => `${f.name}@${f.timestamp}${f.blob != null ? `:${f.blob.target}/${f.blob.max}/${f.blob.baseFeeUpdateFraction}` : ''}`).join(',')
  }

  /** `ATELIER_ROOT`: lattice + fingerprint (+ pinned rules). Topics derive from it; candidates and hints are signed under it. */
  root (): UniqueId {
    this.#root ??= atelierRoot(this.lattice, this.signature(), this.rulesTag())
    return this.#root
  }

  get committeeSize (): number {
    return this.committee.length
  }

  /** The pinned roster as `verify` needs it. */
  get roster (): Uint8Array[] {
    return this.committee.map(m => m.blsPublicKey)
  }

  rosterIndexOf (blsPublicKey: Uint8Array): number {
    const hex = toHex(blsPublicKey)
    return this.committee.findIndex(m => toHex(m.blsPublicKey) === hex)
  }
}

/** Validates parsed JSON into a `Config`; throws `ConfigError` listing every invalid field. */
export function parseConfig (json: unknown, source?: string): Config {
  const result = ConfigSchema.safeParse(json)
  if (!result.success) {
    throw new ConfigError(result.error.issues.map(i => ({ field: formatPath(i.path), message: i.message })), source)
  }
  const fields = result.data
  const issues: ConfigIssue[] = []
  const seenMrtd = new Map<string, number>()
  fields.mrtdAcl.forEach((m, i) => {
    const key = toHex(fromHex(m))
    const first = seenMrtd.get(key)
    if (first != null) {
      issues.push({ field: `mrtdAcl[${i}]`, message: `duplicate of mrtdAcl[${first}]` })
    }
    seenMrtd.set(key, i)
  })
  const seenKeys = new Map<string, number>()
  fields.committee.forEach((m, i) => {
    const pk = fromHex(m.blsPublicKey)
    const key = toHex(pk)
    const first = seenKeys.get(key)
    if (first != null) {
      issues.push({ field: `committee[${i}].blsPublicKey`, message: `duplicate of committee[${first}].blsPublicKey` })
    }
    seenKeys.set(key, i)
    if (!blsVerifyProofOfPossession(pk, fromHex(m.proofOfPossession))) {
      issues.push({ field: `committee[${i}].proofOfPossession`, message: `proof of possession does not verify for blsPublicKey ${key.slice(0, 16)}…` })
    }
  })
  if (issues.length > 0) {
    throw new ConfigError(issues, source)
  }
  return new Config(fields)
}

function formatPath (path: PropertyKey[]): string {
  if (path.length === 0) {
    return '(root)'
  }
  return path.map((p, i) => typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`).join('')
}

export type { ConfigJson }
