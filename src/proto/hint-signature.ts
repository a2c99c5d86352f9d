/**
 * Co-builder hint signatures: secp256k1 over the hint signing root; the co-builder id is the signer's
 * Ethereum address, so a hint names its signer and the signature proves it.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js'
import { hintSigningRoot } from './signing.ts'
import type { BundleValue, HintBundleValue } from './types.ts'

export function ethAddressOf (secretKey: Uint8Array): Uint8Array {
  return addressFromPublicKey(secp256k1.getPublicKey(secretKey, false))
}

function addressFromPublicKey (uncompressed: Uint8Array): Uint8Array {
  return keccak256(uncompressed.subarray(1)).subarray(12)
}

export function signHint (secretKey: Uint8Array, slot: number, template: BundleValue, domainId: Uint8Array): HintBundleValue {
  const coBuilder = ethAddressOf(secretKey)
  const root = hintSigningRoot({ slot, coBuilder, template }, domainId)
  const recovered = secp256k1.sign(root, secretKey, { prehash: false, format: 'recovered' })
  // noble puts the recovery id first; Ethereum's convention is r ‖ s ‖ v
  const signature = new Uint8Array(65)
  signature.set(recovered.subarray(1), 0)
  signature[64] = recovered[0]
  return { slot, coBuilder, template, signature }
}

/** The address that signed this hint, or undefined when the signature is malformed. */
export function recoverHintSigner (hint: HintBundleValue, domainId: Uint8Array): Uint8Array | undefined {
  const v = hint.signature[64]
  if (v !== 0 && v !== 1) {
    return undefined
  }
  const recovered = new Uint8Array(65)
  recovered[0] = v
  recovered.set(hint.signature.subarray(0, 64), 1)
  try {
    const root = hintSigningRoot(hint, domainId)
    const pub = secp256k1.recoverPublicKey(recovered, root, { prehash: false })
    return addressFromPublicKey(secp256k1.Point.fromBytes(pub).toBytes(false))
  } catch {
    return undefined
  }
}

export function verifyHintSignature (hint: HintBundleValue, domainId: Uint8Array): boolean {
  const signer = recoverHintSigner(hint, domainId)
  return signer != null && signer.length === hint.coBuilder.length && signer.every((b, i) => b === hint.coBuilder[i])
}
