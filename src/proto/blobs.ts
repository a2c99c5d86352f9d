/**
 * Blob data beside a block, without KZG (that is core's): versioned hashes from commitments
 * (EIP-4844), the bundle a candidate's blobs make in its body's order and the checks of its shape,
 * the EIP-7594 network form a proposer hands its execution client, and the Engine API's JSON of a
 * bundle (`BlobsBundleV2`).
 */
import { RLP } from '@ethereumjs/rlp'
import { sha256 } from '@noble/hashes/sha2.js'
import { toHex } from './bytes.ts'
import { blobVersionedHashes } from './engine-payload.ts'
import { CELLS_PER_EXT_BLOB } from './limits.ts'
import type { BlobSidecarValue, BlobsBundleValue, CandidateValue } from './types.ts'

/** EIP-4844's version byte of a KZG commitment's hash. */
const VERSIONED_HASH_VERSION_KZG = 0x01
/** EIP-7594's network wrapper version: cell proofs. */
export const NETWORK_WRAPPER_CELL_PROOFS = 1

export function versionedHashOf (commitment: Uint8Array): Uint8Array {
  const h = sha256(commitment)
  h[0] = VERSIONED_HASH_VERSION_KZG
  return h
}

/** Every versioned hash the candidate's body carries, in block order (what its bundle must match). */
export function candidateVersionedHashes (c: Pick<CandidateValue, 'body'>): Uint8Array[] {
  return c.body.flatMap(blobVersionedHashes)
}

/** The bundle these sidecars make, in the order given. */
export function bundleOf (sidecars: BlobSidecarValue[]): BlobsBundleValue {
  return {
    commitments: sidecars.map(s => s.commitment),
    proofs: sidecars.flatMap(s => s.proofs),
    blobs: sidecars.map(s => s.blob)
  }
}

/** The bundle's sidecars, blob by blob. */
export function sidecarsOf (bundle: BlobsBundleValue): BlobSidecarValue[] {
  return bundle.blobs.map((blob, i) => ({
    commitment: bundle.commitments[i],
    proofs: bundle.proofs.slice(i * CELLS_PER_EXT_BLOB, (i + 1) * CELLS_PER_EXT_BLOB),
    blob
  }))
}

/**
 * Why `bundle` is not the bundle of blobs with these versioned hashes, short of KZG: the counts, and
 * each commitment's hash against the body's; undefined when the shape holds.
 */
export function bundleShapeMismatch (bundle: BlobsBundleValue, versionedHashes: Uint8Array[]): string | undefined {
  const n = versionedHashes.length
  if (bundle.blobs.length !== n || bundle.commitments.length !== n) {
    return `the body carries ${n} blob(s); the bundle has ${bundle.blobs.length} blob(s) and ${bundle.commitments.length} commitment(s)`
  }
  if (bundle.proofs.length !== n * CELLS_PER_EXT_BLOB) {
    return `${bundle.proofs.length} cell proofs for ${n} blob(s): expected ${CELLS_PER_EXT_BLOB} per blob`
  }
  for (let i = 0; i < n; i++) {
    const got = toHex(versionedHashOf(bundle.commitments[i]))
    if (got !== toHex(versionedHashes[i])) {
      return `blob ${i}: its commitment hashes to 0x${got}, the body says 0x${toHex(versionedHashes[i])}`
    }
  }
  return undefined
}

/**
 * A type-3 transaction in its EIP-7594 network form: `0x03 ‖ rlp([tx_payload_body, 1, blobs,
 * commitments, cell_proofs])`, from its canonical form and its sidecars (in its hashes' order).
 */
export function networkFormOf (canonical: Uint8Array, sidecars: BlobSidecarValue[]): Uint8Array {
  const body = RLP.decode(canonical.subarray(1))
  const wrapped = RLP.encode([
    body as Uint8Array[],
    Uint8Array.of(NETWORK_WRAPPER_CELL_PROOFS),
    sidecars.map(s => s.blob),
    sidecars.map(s => s.commitment),
    sidecars.flatMap(s => s.proofs)
  ])
  const out = new Uint8Array(1 + wrapped.length)
  out[0] = 0x03
  out.set(wrapped, 1)
  return out
}

type Hex = `0x${string}`

/** The Engine API's `BlobsBundleV2` (what `engine_getPayloadV5` returns beside the payload). */
export interface EngineBlobsBundleV2 { commitments: Hex[], proofs: Hex[], blobs: Hex[] }

export function toEngineBlobsBundle (bundle: BlobsBundleValue): EngineBlobsBundleV2 {
  const data = (b: Uint8Array): Hex => `0x${toHex(b)}`
  return { commitments: bundle.commitments.map(data), proofs: bundle.proofs.map(data), blobs: bundle.blobs.map(data) }
}
