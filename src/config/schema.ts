/**
 * The JSON shape of an atelier config file. Validation here is structural; cryptographic checks
 * (proofs of possession) run in `parseConfig` once the shape is known.
 */
import { z } from 'zod'

const hexBytes = (n: number, what: string): z.ZodString =>
  z.string().regex(new RegExp(`^(0x)?[0-9a-fA-F]{${n * 2}}$`), `expected ${what}: ${n} bytes as ${n * 2} hex characters`)

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url')

/** Public keys only: a JWK with a private part (`d`) is refused so secrets never end up in a shared config. */
export const PublicJwkSchema = z.discriminatedUnion('kty', [
  z.strictObject({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519', 'expected crv "Ed25519" for an OKP key'),
    x: base64url,
    kid: z.string().optional(),
    alg: z.enum(['EdDSA', 'Ed25519']).optional(),
    use: z.literal('sig').optional()
  }, 'expected a public Ed25519 JWK { kty, crv, x } (no private "d")'),
  z.strictObject({
    kty: z.literal('EC'),
    crv: z.literal('P-256', 'expected crv "P-256" for an EC key'),
    x: base64url,
    y: base64url,
    kid: z.string().optional(),
    alg: z.literal('ES256').optional(),
    use: z.literal('sig').optional()
  }, 'expected a public P-256 JWK { kty, crv, x, y } (no private "d")')
], 'expected a JWK with kty "OKP" (Ed25519) or "EC" (P-256)')

export type PublicJwk = z.infer<typeof PublicJwkSchema>

export const CommitteeMemberSchema = z.strictObject({
  blsPublicKey: hexBytes(48, 'a compressed BLS12-381 public key'),
  proofOfPossession: hexBytes(96, 'a BLS12-381 signature')
})

export const BLOCK_SCHEMAS = ['L1Post4844'] as const

export const TuningSchema = z.strictObject({
  /** ms the slot leader has to seal before the next member in roster order may */
  leaderTimeoutMs: z.int().min(100).max(600_000).default(4000),
  /**
   * ms per rank a slot's opening waits, counted from the start of its building window (the previous
   * slot's start on the slot clock, when its payload attributes are due): the leader opens at once,
   * the next member by rank only if the slot is still unopened after this long, and so on
   */
  openTimeoutMs: z.int().min(50).max(600_000).default(1500),
  /** ms between head polls on the chain RPC */
  headPollMs: z.int().min(50).max(60_000).default(500),
  /** ms for one chain-RPC request */
  rpcTimeoutMs: z.int().min(100).max(120_000).default(10_000),
  /** ms for the attested handshake of one connection */
  upgradeTimeoutMs: z.int().min(500).max(60_000).default(10_000),
  /** slots past a slot after which its state is garbage-collected (MarkDone) */
  markDoneDepth: z.int().min(1).max(10_000).default(64),
  /**
   * ms a member waits for its own beacon node's payload attributes of a slot the leader opened
   * before it refuses to sign it (`payload-attributes-missing`)
   */
  payloadAttributesWaitMs: z.int().min(0).max(60_000).default(2000),
  /** ms between roster announcements */
  rosterAnnounceMs: z.int().min(500).max(3_600_000).default(10_000),
  /**
   * inbound connections that have not finished admission, per remote host (an IPv4 address or an
   * IPv6 /64) and in all, per plane; at the total, the host holding the most loses its oldest one
   */
  maxPendingPerHost: z.int().min(1).max(10_000).default(4),
  maxPendingTotal: z.int().min(1).max(100_000).default(64),
  /** ms each early stage of an inbound handshake (multistream, nonce, Noise, evidence) may take */
  handshakeStageTimeoutMs: z.int().min(100).max(60_000).default(2000),
  /** inbound connections accepted per second per remote host */
  inboundConnectionsPerSecond: z.int().min(1).max(100_000).default(5)
})

const TCB = ['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded'] as const

/** How quotes are judged. Local policy, not part of the fingerprint: each node decides whom it admits. */
export const AttestationSchema = z.strictObject({
  /** base64 DER of a root CA to trust instead of the Intel SGX Root CA: test TDs and local testnets only */
  trustedRootCaDer: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64 DER').optional(),
  allowedTcbStatuses: z.array(z.enum(TCB, `expected TCB statuses from: ${TCB.join(', ')}`)).min(1).default(['UpToDate']),
  minTcbEvaluationDataNumber: z.int().min(0).optional(),
  /** RTMR index (0–3) → required 48-byte hex value */
  rtmrPins: z.strictObject({
    0: hexBytes(48, 'an RTMR').optional(),
    1: hexBytes(48, 'an RTMR').optional(),
    2: hexBytes(48, 'an RTMR').optional(),
    3: hexBytes(48, 'an RTMR').optional()
  }).optional()
})

export const TicketChecksSchema = z.strictObject({
  issuer: z.string().min(1).optional(),
  audience: z.string().min(1).optional()
})

/** The forks atelier can run (ethereumjs 10's names), in activation order. */
export const FORKS = ['cancun', 'prague', 'osaka', 'bpo1', 'bpo2', 'bpo3', 'bpo4', 'bpo5'] as const

const ForkSchema = z.strictObject({
  name: z.enum(FORKS, `expected a fork from: ${FORKS.join(', ')}`),
  /** unix seconds from which the fork's rules apply */
  timestamp: z.int().min(0),
  /** the fork's blob parameters, as a genesis config gives them: checked against the EVM's own */
  blob: z.strictObject({ target: z.int().min(0), max: z.int().min(0), baseFeeUpdateFraction: z.int().min(1) }).optional()
})

/** The chain's rules, pinned: its id and fork schedule (the first fork from genesis, then ascending). */
const ChainSchema = z.strictObject({
  chainId: z.int().min(1),
  forks: z.array(ForkSchema).min(1, 'expected at least one fork')
}).refine(c => c.forks[0].timestamp === 0, { message: 'the first fork applies from genesis: its timestamp must be 0', path: ['forks', 0, 'timestamp'] })
  .refine(c => c.forks.every((f, i) => i === 0 || (f.timestamp > c.forks[i - 1].timestamp && FORKS.indexOf(f.name) > FORKS.indexOf(c.forks[i - 1].name))), {
    message: 'forks must follow each other: later forks, at later timestamps',
    path: ['forks']
  })

export const ConfigSchema = z.strictObject({
  lattice: z.string().min(1, 'expected a non-empty lattice name'),
  blockSchema: z.enum(BLOCK_SCHEMAS, `expected one of: ${BLOCK_SCHEMAS.join(', ')}`),
  mrtdAcl: z.array(hexBytes(48, 'an MR_TD'), 'expected a list of MR_TDs').min(1, 'expected at least one MR_TD'),
  chainRpc: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  chain: ChainSchema.optional(),
  committee: z.array(CommitteeMemberSchema, 'expected a list of { blsPublicKey, proofOfPossession }')
    .min(1, 'expected at least one committee member')
    .max(64, 'expected at most 64 committee members'),
  operatorJwtKey: PublicJwkSchema,
  coBuilderJwtKey: PublicJwkSchema,
  readTicketKey: PublicJwkSchema,
  tickets: TicketChecksSchema.optional(),
  attestation: AttestationSchema.prefault({}),
  tuning: TuningSchema.prefault({})
})

export type ConfigJson = z.input<typeof ConfigSchema>
export type ConfigFields = z.output<typeof ConfigSchema>
export type Tuning = z.output<typeof TuningSchema>
export type ChainPin = z.output<typeof ChainSchema>
export type AttestationSettings = z.output<typeof AttestationSchema>
