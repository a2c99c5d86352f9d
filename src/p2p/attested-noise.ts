/**
 * `/noise-attested/1.0.0`: Noise XX, then — over the encrypted channel, before the upgrade returns —
 * an attestation exchange. Noise cannot carry a quote in its own handshake (P2P-NOTES), and exposes no
 * handshake hash to bind one to, so fresh nonces exchanged inside the channel serve as the binding:
 *
 * - initiator → responder: nonce_i
 * - responder → initiator: nonce_r, evidence_r (report_data binds responder key, initiator key, nonce_i)
 * - initiator → responder: verdict on r, then evidence_i (binds initiator key, responder key, nonce_r)
 * - responder → initiator: verdict on i
 *
 * One and a half round trips after Noise (the first frame rides right behind Noise's last message).
 * The responder spends a quote before it knows the initiator: the evidence source bounds how many
 * quotes may be pending, and libp2p's per-host inbound rate limit and connection cap bound how often
 * that can be asked. Any failure aborts the connection inside the upgrade: identify, yamux and
 * gossipsub never see an unadmitted peer. The remote hears only a generic refusal; the local log gets
 * the precise reason code.
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

export interface AttestedNoiseInit {
  policy: AdmissionPolicy
  evidence: EvidenceSource
  registry: AdmissionRegistry
  /** unix seconds; the verifier's own clock */
  now?(): number
  /** every handshake outcome, once: for logs and metrics */
  onHandshake?(event: HandshakeEvent): void
}

const OUTCOME: Partial<Record<AttestedHandshakeError['code'], HandshakeEvent['outcome']>> = {
  'admission-rejected': 'rejected',
  'refused-by-remote': 'refused-by-remote'
}

class AttestedNoise implements ConnectionEncrypter<NoiseExtensions> {
  readonly protocol = ATTESTED_NOISE_PROTOCOL
  readonly #noise: ConnectionEncrypter<NoiseExtensions>
  readonly #components: NoiseComponents
  readonly #init: AttestedNoiseInit

  constructor (components: NoiseComponents, init: AttestedNoiseInit) {
    this.#noise = noise()(components)
    this.#components = components
    this.#init = init
  }

  async secureOutbound (connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection<NoiseExtensions>> {
    return this.#attest(await this.#noise.secureOutbound(connection, options), true, options)
  }

  async secureInbound (connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection<NoiseExtensions>> {
    return this.#attest(await this.#noise.secureInbound(connection, options), false, options)
  }

  async #attest (secured: SecuredConnection<NoiseExtensions>, initiator: boolean, options?: AbortOptions): Promise<SecuredConnection<NoiseExtensions>> {
    const direction = initiator ? 'outbound' : 'inbound'
    const remotePeer = secured.remotePeer
    const lp = lpStream(secured.connection, { maxDataLength: MAX_FRAME_BYTES })
    const opts = { signal: options?.signal }
    const read = async (what: string): Promise<Uint8Array> => {
      try {
        return (await lp.read(opts)).subarray()
      } catch (err) {
        const aborted = options?.signal?.aborted === true
        throw new AttestedHandshakeError(aborted ? 'handshake-timeout' : 'handshake-junk', `reading ${what}: ${(err as Error).message}`, undefined, { cause: err })
      }
    }
    if (remotePeer.publicKey == null) {
      secured.connection.abort(new Error('remote peer id carries no public key'))
      throw new AttestedHandshakeError('handshake-junk', 'remote peer id carries no public key')
    }
    const myKey = publicKeyToProtobuf(this.#components.privateKey.publicKey)
    const remoteKey = publicKeyToProtobuf(remotePeer.publicKey)
    const myNonce = new Uint8Array(randomBytes(NONCE_BYTES))
    try {
      const nonceOf = async (): Promise<Uint8Array> => {
        const n = await read('nonce')
        if (n.length !== NONCE_BYTES) {
          throw new AttestedHandshakeError('handshake-junk', `nonce of ${n.length} bytes`)
        }
        return n
      }
      const mine = async (remoteNonce: Uint8Array): Promise<Uint8Array> =>
        encodeEvidence(await this.#init.evidence.evidence(attestationReportData(myKey, remoteKey, remoteNonce)))
      let admission: Admission
      if (initiator) {
        await lp.write(myNonce, opts)
        const remoteNonce = await nonceOf()
        admission = await this.#judge(await read('evidence'), remotePeer, remoteKey, myKey, myNonce, lp, opts)
        await lp.writeV([encodeVerdict(true), await mine(remoteNonce)], opts)
        this.#expectAccepted(decodeVerdict(await read('verdict')))
      } else {
        const remoteNonce = await nonceOf()
        await lp.writeV([myNonce, await mine(remoteNonce)], opts)
        this.#expectAccepted(decodeVerdict(await read('verdict')))
        admission = await this.#judge(await read('evidence'), remotePeer, remoteKey, myKey, myNonce, lp, opts)
        await lp.write(encodeVerdict(true), opts)
      }
      this.#init.registry.record(admission)
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

export function attestedNoise (init: AttestedNoiseInit): (components: NoiseComponents) => ConnectionEncrypter<NoiseExtensions> {
  return (components: NoiseComponents) => new AttestedNoise(components, init)
}
