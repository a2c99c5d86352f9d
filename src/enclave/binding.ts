import { sha512 } from '@noble/hashes/sha2.js'
import { concatBytes } from '../proto/index.ts'

const DOMAIN = new TextEncoder().encode('atelier-attested-noise/v1\0')
export const NONCE_BYTES = 32

/**
 * The report_data a prover puts in its quote for one handshake: it names both ends (their libp2p
 * public keys) and the verifier's fresh nonce, so a quote cannot be replayed to another peer or later.
 */
export function attestationReportData (proverKey: Uint8Array, verifierKey: Uint8Array, verifierNonce: Uint8Array): Uint8Array {
  if (verifierNonce.length !== NONCE_BYTES) {
    throw new RangeError(`nonce is ${NONCE_BYTES} bytes, got ${verifierNonce.length}`)
  }
  return sha512(concatBytes(DOMAIN, proverKey, verifierKey, verifierNonce))
}
