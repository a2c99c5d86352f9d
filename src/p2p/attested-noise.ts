/**
 * `/noise-attested/1.0.0`: Noise XX wrapped in an attestation exchange that finishes before the upgrade
 * returns. Noise cannot carry a quote in its own handshake and exposes no handshake hash to bind one to
 * (P2P-NOTES), so each side's fresh nonce is the binding. The frames:
 *
 * 1. both sides, before Noise, in the clear: a 32-byte nonce;
 * 2. initiator → responder, right behind Noise's last message: evidence_i (report_data binds initiator
 * key, responder key, nonce_r);
 * 3. responder → initiator: verdict on i, then evidence_r (binds responder key, initiator key, nonce_i);
 * 4. initiator → responder: verdict on r.
 *
 * A nonce is a public challenge: tampering with it only makes the quote bound to it fail the verifier's
 * own check, which an active attacker could cause anyway by dropping packets. In the clear it rides with
 * the multistream echo and Noise's first message, so it costs no round trip: the exchange adds one round
 * trip after Noise on each side. The responder judges the initiator before it spends a quote, so an
 * unadmitted dialer cannot make a member generate quotes; the evidence source still bounds how many
 * quotes may be pending. Any failure aborts the connection inside the upgrade: identify, yamux and
 * gossipsub never see an unadmitted peer. The remote hears only a generic refusal; the local log gets the
 * precise reason code.
 *
 * Inbound, every wait on the remote (the nonce, Noise, its evidence, its verdict) has its own deadline,
 * well under the upgrade timeout, so that a remote stalling before admission holds its pre-admission
 * slot (pre-admission.ts) for seconds, not for the whole upgrade. Our own work (verifying, quoting) is
 * outside those deadlines. Outbound dials get none: they are ours, bounded by libp2p's dial timeout, and
 * their waits include the remote's quote, which a busy quote provider may delay.
 */
import { randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { AdmissionError, attestationReportData, NONCE_BYTES } from '../enclave/index.ts'
import { AttestedHandshakeError } from './errors.ts'
import { decodeEvidence, decodeVerdict, encodeEvidence, encodeVerdict, MAX_FRAME_BYTES } from './frames.ts'
import type { AdmissionRegistry } from './admission-registry.ts'
import type { EvidenceSource } from './evidence-source.ts'
import type { Admission, AdmissionPolicy, Evidence } from '../enclave/index.ts'
import type { NoiseExtensions } from '@chainsafe/libp2p-noise'
import type { AbortOptions, ConnectionEncrypter, MessageStream, PeerId, SecureConnectionOptions, SecuredConnection } from '@libp2p/interface'

type NoiseComponents = Parameters<ReturnType<typeof noise>>[0]

export const ATTESTED_NOISE_PROTOCOL = '/noise-attested/1.0.0'

export interface HandshakeEvent {
  direction: 'inbound' | 'outbound'
  remotePeer?: string
  outcome: 'admitted' | 'rejected' | 'refused-by-remote' | 'failed'
  role?: Admission['role']
  /** precise reason code (local only) */
  reason?: string
  message?: string
}

/**
 * What the inbound side of the handshake reports about the transport's raw connection (the one the
 * encrypter is handed), for pre-admission's bookkeeping; PreAdmission implements it.
 */
export interface InboundHandshakeWatch {
  /** multistream-select chose this encrypter: the stage deadlines take over */
  started(connection: MessageStream): void
  /** the remote was admitted (recorded in the registry) */
  admitted(connection: MessageStream): void
  /** a stage ran past its deadline; the connection is being aborted */
  timedOut(connection: MessageStream, stage: string): void
}

export interface AttestedNoiseInit {
  policy: AdmissionPolicy
  evidence: EvidenceSource
  registry: AdmissionRegistry
  /** unix seconds; the verifier's own clock */
  now?(): number
  /** every handshake outcome, once: for logs and metrics */
  onHandshake?(event: HandshakeEvent): void
  /** inbound only: the deadline of each wait on the remote (none when unset) */
  stageTimeoutMs?: number
  inbound?: InboundHandshakeWatch
}

/** Runs one wait on the remote under the stage deadline (inbound), or as it is (outbound). */
type Stage = <T>(what: string, fn: (options: AbortOptions) => Promise<T>) => Promise<T>

const OUTCOME: Partial<Record<AttestedHandshakeError['code'], HandshakeEvent['outcome']>> = {
  'admission-rejected': 'rejected',
  'refused-by-remote': 'refused-by-remote'
}

class AttestedNoise implements ConnectionEncrypter<NoiseExtensions> {
  readonly protocol = ATTESTED_NOISE_PROTOCOL
  readonly #noise: ConnectionEncrypter<NoiseExtensions>
  /** our libp2p public key as quotes bind it (fixed for the node's life) */
  readonly #myKey: Uint8Array
  readonly #init: AttestedNoiseInit

  constructor (components: NoiseComponents, init: AttestedNoiseInit) {
    this.#noise = noise()(components)
    this.#myKey = publicKeyToProtobuf(components.privateKey.publicKey)
    this.#init = init
  }

  async secureOutbound (connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection<NoiseExtensions>> {
    return this.#handshake(connection, true, options)
  }

  async secureInbound (connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection<NoiseExtensions>> {
    return this.#handshake(connection, false, options)
  }

  async #handshake (connection: MessageStream, initiator: boolean, options?: SecureConnectionOptions): Promise<SecuredConnection<NoiseExtensions>> {
    if (!initiator) {
      this.#init.inbound?.started(connection)
    }
    const stage = this.#stages(connection, initiator, options)
    const myNonce = new Uint8Array(randomBytes(NONCE_BYTES))
    let remoteNonce: Uint8Array
    try {
      remoteNonce = await stage('nonce', async o => exchangeNonces(connection, myNonce, o))
    } catch (err) {
      const e = err instanceof AttestedHandshakeError ? err : new AttestedHandshakeError('handshake-junk', `sending nonce: ${(err as Error).message}`, undefined, { cause: err })
      this.#init.onHandshake?.({ direction: initiator ? 'outbound' : 'inbound', outcome: 'failed', reason: e.code, message: e.message })
      connection.abort(e)
      throw e
    }
    // a dialer that names the peer knows everything its quote binds before Noise starts: the quote is
    // made while Noise runs (Noise itself refuses a remote with another key)
    const expected = initiator ? options?.remotePeer?.publicKey : undefined
    const early = expected != null ? this.#evidence(publicKeyToProtobuf(expected), remoteNonce) : undefined
    early?.catch(() => {})
    let secured: SecuredConnection<NoiseExtensions>
    try {
      secured = initiator
        ? await this.#noise.secureOutbound(connection, options)
        : await stage('noise', async o => this.#noise.secureInbound(connection, { ...options, ...o }))
    } catch (err) {
      // Noise's own failures keep their error; only a stage deadline becomes a handshake outcome here
      if (err instanceof AttestedHandshakeError) {
        this.#init.onHandshake?.({ direction: initiator ? 'outbound' : 'inbound', outcome: 'failed', reason: err.code, message: err.message })
        connection.abort(err)
      }
      throw err
    }
    return this.#attest(secured, connection, initiator, myNonce, remoteNonce, early, stage, options)
  }

  #stages (connection: MessageStream, initiator: boolean, options?: AbortOptions): Stage {
    const ms = this.#init.stageTimeoutMs
    if (initiator || ms == null) {
      return async (_what, fn) => fn({ signal: options?.signal })
    }
    return async (what, fn) => {
      const deadline = new AbortController()
      const timer = setTimeout(() => { deadline.abort(new DOMException(`${what}: no answer within ${ms} ms`, 'TimeoutError')) }, ms)
      const signal = options?.signal != null ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal
      try {
        return await fn({ signal })
      } catch (err) {
        // the upgrade's own timeout counts too (it may be set shorter); a shutdown does not
        const upgradeTimedOut = (options?.signal?.reason as Error | undefined)?.name === 'TimeoutError'
        if (!deadline.signal.aborted && !upgradeTimedOut) {
          throw err
        }
        this.#init.inbound?.timedOut(connection, what)
        const message = deadline.signal.aborted ? `${what}: no answer within ${ms} ms` : `${what}: upgrade timed out`
        throw new AttestedHandshakeError('handshake-timeout', message, undefined, { cause: err })
      } finally {
        clearTimeout(timer)
      }
    }
  }

  async #evidence (remoteKey: Uint8Array, remoteNonce: Uint8Array): Promise<Uint8Array> {
    return encodeEvidence(await this.#init.evidence.evidence(attestationReportData(this.#myKey, remoteKey, remoteNonce)))
  }

  async #attest (secured: SecuredConnection<NoiseExtensions>, raw: MessageStream, initiator: boolean, myNonce: Uint8Array, remoteNonce: Uint8Array,
    early: Promise<Uint8Array> | undefined, stage: Stage, options?: AbortOptions): Promise<SecuredConnection<NoiseExtensions>> {
    const direction = initiator ? 'outbound' : 'inbound'
    const remotePeer = secured.remotePeer
    const lp = lpStream(secured.connection, { maxDataLength: MAX_FRAME_BYTES })
    const opts = { signal: options?.signal }
    const read = async (what: string): Promise<Uint8Array> => stage(what, async o => readFrame(lp, what, o))
    if (remotePeer.publicKey == null) {
      secured.connection.abort(new Error('remote peer id carries no public key'))
      throw new AttestedHandshakeError('handshake-junk', 'remote peer id carries no public key')
    }
    const myKey = this.#myKey
    const remoteKey = publicKeyToProtobuf(remotePeer.publicKey)
    try {
      const mine = async (): Promise<Uint8Array> => early ?? this.#evidence(remoteKey, remoteNonce)
      const judge = async (): Promise<Admission> => this.#judge(await read('evidence'), remotePeer, remoteKey, myKey, myNonce, lp, opts)
      let admission: Admission
      if (initiator) {
        await lp.write(await mine(), opts)
        this.#expectAccepted(decodeVerdict(await read('verdict')))
        admission = await judge()
        await lp.write(encodeVerdict(true), opts)
      } else {
        admission = await judge()
        await lp.writeV([encodeVerdict(true), await mine()], opts)
        this.#expectAccepted(decodeVerdict(await read('verdict')))
      }
      this.#init.registry.record(admission)
      if (!initiator) {
        this.#init.inbound?.admitted(raw)
      }
      this.#init.onHandshake?.({ direction, remotePeer: remotePeer.toString(), outcome: 'admitted', role: admission.role })
      return { ...secured, connection: lp.unwrap() }
    } catch (err) {
      const e = err instanceof AttestedHandshakeError
        ? err
        : new AttestedHandshakeError('handshake-junk', (err as Error).message, undefined, { cause: err })
      const outcome = OUTCOME[e.code] ?? 'failed'
      this.#init.onHandshake?.({ direction, remotePeer: remotePeer.toString(), outcome, reason: e.reason ?? e.code, message: e.message })
      secured.connection.abort(e)
      throw e
    }
  }

  #expectAccepted (verdict: { accepted: boolean, reason: string }): void {
    if (!verdict.accepted) {
      throw new AttestedHandshakeError('refused-by-remote', `remote refused us: ${verdict.reason}`)
    }
  }

  /** Verifies the remote's evidence; on refusal tells the remote (generically) and throws. */
  async #judge (bytes: Uint8Array, remotePeer: PeerId, remoteKey: Uint8Array, myKey: Uint8Array, myNonce: Uint8Array,
    lp: ReturnType<typeof lpStream>, opts: AbortOptions): Promise<Admission> {
    let evidence: Evidence
    try {
      evidence = decodeEvidence(bytes)
    } catch (err) {
      await lp.write(encodeVerdict(false, 'malformed evidence'), opts).catch(() => {})
      throw new AttestedHandshakeError('handshake-junk', `malformed evidence: ${(err as Error).message}`, 'malformed-evidence')
    }
    try {
      return await this.#init.policy.admit(evidence, {
        peerId: remotePeer.toString(),
        expectedReportData: attestationReportData(remoteKey, myKey, myNonce),
        now: this.#init.now?.() ?? Math.floor(Date.now() / 1000)
      })
    } catch (err) {
      const code = err instanceof AdmissionError ? err.code : 'admission-error'
      await lp.write(encodeVerdict(false, 'not admitted'), opts).catch(() => {})
      throw new AttestedHandshakeError('admission-rejected', `refused ${remotePeer.toString()}: ${code}: ${(err as Error).message}`, code, { cause: err })
    }
  }
}

async function readFrame (lp: { read(o?: AbortOptions): Promise<{ subarray(): Uint8Array }> }, what: string, options?: AbortOptions): Promise<Uint8Array> {
  try {
    return (await lp.read({ signal: options?.signal })).subarray()
  } catch (err) {
    const aborted = options?.signal?.aborted === true
    throw new AttestedHandshakeError(aborted ? 'handshake-timeout' : 'handshake-junk', `reading ${what}: ${(err as Error).message}`, undefined, { cause: err })
  }
}

/** Both sides write their nonce first, then read the other's: neither waits on the other to start. */
async function exchangeNonces (connection: MessageStream, myNonce: Uint8Array, options?: AbortOptions): Promise<Uint8Array> {
  const lp = lpStream(connection, { maxDataLength: NONCE_BYTES })
  await lp.write(myNonce, { signal: options?.signal })
  const nonce = await readFrame(lp, 'nonce', options)
  if (nonce.length !== NONCE_BYTES) {
    throw new AttestedHandshakeError('handshake-junk', `nonce of ${nonce.length} bytes`)
  }
  // bytes read ahead (Noise's first message) go back to the connection for Noise to read
  lp.unwrap()
  return nonce
}

export function attestedNoise (init: AttestedNoiseInit): (components: NoiseComponents) => ConnectionEncrypter<NoiseExtensions> {
  return (components: NoiseComponents) => new AttestedNoise(components, init)
}
