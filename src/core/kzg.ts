/**
 * KZG for blob transactions (EIP-4844, and EIP-7594's cell proofs from Osaka on), through the
 * `@crate-crypto/node-eth-kzg` native binding, in the shape ethereumjs' `customCrypto.kzg` takes
 * (hex strings). The context holds the trusted setup and takes ~2 s to build (measured here), so it is
 * built on the first call that needs it: decoding a blob transaction in its canonical form only asks
 * that a KZG exists; proofs are checked by the point-evaluation precompile and by network-form
 * transactions.
 */
import { DasContextJs } from '@crate-crypto/node-eth-kzg'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { KZG } from '@ethereumjs/util'

let context: DasContextJs | undefined
const ctx = (): DasContextJs => {
  context ??= DasContextJs.create({ usePrecomp: false })
  return context
}
const b = (hex: string): Uint8Array => hexToBytes(hex as `0x${string}`)
const h = (bytes: Uint8Array): string => bytesToHex(bytes)

export const nativeKzg: KZG = {
  blobToKzgCommitment: blob => h(ctx().blobToKzgCommitment(b(blob))),
  computeBlobProof: (blob, commitment) => h(ctx().computeBlobKzgProof(b(blob), b(commitment))),
  verifyProof: (commitment, z, y, proof) => ctx().verifyKzgProof(b(commitment), b(z), b(y), b(proof)),
  verifyBlobProofBatch: (blobs, commitments, proofs) => ctx().verifyBlobKzgProofBatch(blobs.map(b), commitments.map(b), proofs.map(b)),
  computeCells: blob => ctx().computeCells(b(blob)).map(h),
  computeCellsAndProofs: blob => {
    const r = ctx().computeCellsAndKzgProofs(b(blob))
    return [r.cells.map(h), r.proofs.map(h)]
  },
  recoverCellsAndProofs: (indices, cells) => {
    const r = ctx().recoverCellsAndKzgProofs(indices, cells.map(b))
    return [r.cells.map(h), r.proofs.map(h)]
  },
  verifyCellKzgProofBatch: (commitments, indices, cells, proofs) => ctx().verifyCellKzgProofBatch(commitments.map(b), indices, cells.map(b), proofs.map(b))
}
