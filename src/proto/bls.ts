/**
 * BLS12-381 over `@chainsafe/blst` with Ethereum's proof-of-possession ciphersuite. Every roster key
 * carries a proof of possession, which is what makes plain aggregation safe against rogue keys.
 */
import * as blst from '@chainsafe/blst'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { LRUCache } from 'lru-cache'
import { toHex } from './bytes.ts'

export const BLS_PUBLIC_KEY_BYTES = 48
export const BLS_SIGNATURE_BYTES = 96
export const BLS_SECRET_KEY_BYTES = 32
const POP_TAG = utf8ToBytes('atelier.pop.v1')

export interface BlsKeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

/** Derives a key from at least 32 bytes of input key material (EIP-2333 KeyGen). */
export function blsKeyFromSeed (ikm: Uint8Array): BlsKeyPair {
  const sk = blst.SecretKey.fromKeygen(ikm)
  return { secretKey: sk.toBytes(), publicKey: sk.toPublicKey().toBytes(true) }
}

/**
 * Signatures that verified, by (key, message, signature): a gossip validator and the state machine
 * both check each simulation a member receives, and a pairing costs ~1 ms. Only successes are kept
 * (a success stays one), bounded, least recently used first out.
 */
const verified = new LRUCache<string, true>({ max: 4096 })
const memoKey = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string =>
  `${toHex(publicKey)}.${toHex(message)}.${toHex(signature)}`

function remember (key: string): void {
  verified.set(key, true)
}

export function blsSign (secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  const sk = blst.SecretKey.fromBytes(secretKey)
  const signature = sk.sign(message).toBytes(true)
  // the signer's own state machine checks this signature next: a key derivation is cheaper than a pairing
  remember(memoKey(sk.toPublicKey().toBytes(true), message, signature))
  return signature
}

export function blsPublicKeyOf (secretKey: Uint8Array): Uint8Array {
  return blst.SecretKey.fromBytes(secretKey).toPublicKey().toBytes(true)
}

/** False, never a throw, for keys or signatures that are not valid points. */
export function blsVerify (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = memoKey(publicKey, message, signature)
  if (verified.get(key) === true) {
    return true
  }
  let ok: boolean
  try {
    ok = blst.verify(message, blst.PublicKey.fromBytes(publicKey, true), blst.Signature.fromBytes(signature, true))
  } catch {
    return false
  }
  if (ok) {
    remember(key)
  }
  return ok
}

export function blsAggregate (signatures: Uint8Array[]): Uint8Array {
  return blst.aggregateSignatures(signatures.map(s => blst.Signature.fromBytes(s, true))).toBytes(true)
}

export function blsFastAggregateVerify (message: Uint8Array, publicKeys: Uint8Array[], signature: Uint8Array): boolean {
  if (publicKeys.length === 0) {
    return false
  }
  try {
    const pks = publicKeys.map(pk => blst.PublicKey.fromBytes(pk, true))
    return blst.fastAggregateVerify(message, pks, blst.Signature.fromBytes(signature, true))
  } catch {
    return false
  }
}

export function popMessage (publicKey: Uint8Array): Uint8Array {
  const buf = new Uint8Array(POP_TAG.length + publicKey.length)
  buf.set(POP_TAG)
  buf.set(publicKey, POP_TAG.length)
  return sha256(buf)
}

export function blsProofOfPossession (secretKey: Uint8Array): Uint8Array {
  return blsSign(secretKey, popMessage(blsPublicKeyOf(secretKey)))
}

export function blsVerifyProofOfPossession (publicKey: Uint8Array, proof: Uint8Array): boolean {
  return blsVerify(publicKey, popMessage(publicKey), proof)
}
