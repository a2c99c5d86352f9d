/**
 * KZG on blob data: a transaction's network form taken apart into its canonical form and its checked
 * sidecars (ingestion), and a candidate's bundle checked against its body (whoever publishes it).
 * Both run the cell-proof batch check of EIP-7594 (micro-eth-signer, pure JavaScript: about 0.4 s a
 * blob on this machine, see BENCHMARKS.md), so they run once per blob where the data enters.
 */
import { RLP } from '@ethereumjs/rlp'
import { createBlob4844TxFromSerializedNetworkWrapper } from '@ethereumjs/tx'
import { LRUCache } from 'lru-cache'
import { bundleShapeMismatch, CELLS_PER_EXT_BLOB, CodedError, concatBytes, fromHex, MAX_BLOBS_PER_TRANSACTION, NETWORK_WRAPPER_CELL_PROOFS, toHex } from '../proto/index.ts'
import { keccak256, makeCommon } from './chain-rules.ts'
import { lazyKzg } from './kzg.ts'
import type { ChainRules } from './chain-rules.ts'
import type { BlobSidecarValue, BlobsBundleValue } from '../proto/index.ts'

export type BlobErrorCode = 'blob-network-form' | 'blob-sidecar-missing' | 'blob-kzg'

export class BlobError extends CodedError<BlobErrorCode> {}

/** A type-3 transaction whose payload is the network wrapper (a list whose first item is the transaction). */
export function isNetworkForm (raw: Uint8Array): boolean {
  if (raw[0] !== 0x03) { return false }
  try {
    const items = RLP.decode(raw.subarray(1)) as unknown[]
    return Array.isArray(items) && Array.isArray(items[0])
  } catch {
    return false
  }
}

export interface TakenTransaction {
  /** what goes into blocks, pools and hashes */
  canonical: Uint8Array
  /** the blob transaction's sidecars, in its versioned hashes' order; empty for any other */
  sidecars: BlobSidecarValue[]
}

/**
 * A transaction as a user submits it: any canonical transaction but type 3 as it is; a type-3 one only
 * in its network form with cell proofs (a canonical blob transaction without its blobs could go into
 * a block nobody can publish), its blobs checked against its versioned hashes by KZG.
 */
export function takeTransaction (raw: Uint8Array, rules: ChainRules): TakenTransaction {
  if (raw[0] !== 0x03) { return { canonical: raw, sidecars: [] } }
  if (!isNetworkForm(raw)) {
    throw new BlobError('blob-sidecar-missing', 'a blob transaction is taken in its network form only (EIP-7594: the transaction, wrapper version 1, blobs, commitments, cell proofs)')
  }
  const common = makeCommon(rules)
  const items = RLP.decode(raw.subarray(1)) as unknown[]
  if (common.isActivatedEIP(7594) && (items.length !== 5 || toHex(items[1] as Uint8Array) !== NETWORK_WRAPPER_CELL_PROOFS.toString(16).padStart(2, '0'))) {
    throw new BlobError('blob-network-form', `${rules.hardfork} takes cell proofs: network wrapper version ${NETWORK_WRAPPER_CELL_PROOFS} (EIP-7594), not the EIP-4844 form with one proof per blob`)
  }
  let tx
  try {
    tx = createBlob4844TxFromSerializedNetworkWrapper(raw, { common })
  } catch (err) {
    const message = (err as Error).message
    throw new BlobError(/KZG|commitment|versionedHash/i.test(message) ? 'blob-kzg' : 'blob-network-form', `blob transaction refused: ${message}`)
  }
  const count = tx.blobVersionedHashes.length
  if (count > MAX_BLOBS_PER_TRANSACTION) {
    throw new BlobError('blob-network-form', `${count} blobs in one transaction: EIP-7594 allows ${MAX_BLOBS_PER_TRANSACTION}`)
  }
  const proofs = (tx.kzgProofs ?? []).map(p => fromHex(p))
  const sidecars = (tx.blobs ?? []).map((blob, i) => ({
    commitment: fromHex((tx.kzgCommitments ?? [])[i]),
    proofs: proofs.slice(i * CELLS_PER_EXT_BLOB, (i + 1) * CELLS_PER_EXT_BLOB),
    blob: fromHex(blob)
  }))
  return { canonical: tx.serialize(), sidecars }
}

/**
 * Blobs whose cell proofs checked, by the hash of commitment, proofs and blob together: the same blob
 * comes back with every bundle that carries its transaction again (a candidate the chain did not take,
 * a relay asked twice) and the check is ~0.5 s of the event loop a blob (BENCHMARKS.md). A verdict
 * is a function of those bytes alone, so only a positive one is kept, and a hit costs one keccak of
 * ~135 KB (~1 ms).
 */
const checkedBlobs = new LRUCache<string, true>({ max: 256 })

/**
 * Why `bundle` is not these versioned hashes' blobs: its shape (bundleShapeMismatch), then every cell
 * proof against its commitment; undefined when it is.
 */
export function blobsBundleMismatch (bundle: BlobsBundleValue, versionedHashes: Uint8Array[]): string | undefined {
  const shape = bundleShapeMismatch(bundle, versionedHashes)
  if (shape != null || bundle.blobs.length === 0) { return shape }
  const hex = (b: Uint8Array): string => `0x${toHex(b)}`
  const cells: string[] = []
  const commitments: string[] = []
  const indices: number[] = []
  const proofs: string[] = []
  const unchecked: string[] = []
  bundle.blobs.forEach((blob, i) => {
    const own = bundle.proofs.slice(i * CELLS_PER_EXT_BLOB, (i + 1) * CELLS_PER_EXT_BLOB)
    const key = toHex(keccak256(concatBytes(bundle.commitments[i], ...own, blob)))
    if (checkedBlobs.has(key)) { return }
    unchecked.push(key)
    lazyKzg.computeCells(hex(blob)).forEach((cell, j) => {
      cells.push(cell)
      commitments.push(hex(bundle.commitments[i]))
      indices.push(j)
      proofs.push(hex(own[j]))
    })
  })
  if (unchecked.length === 0) { return undefined }
  let ok = false
  try {
    ok = lazyKzg.verifyCellKzgProofBatch(commitments, indices, cells, proofs)
  } catch (err) {
    return `the cell proofs cannot be checked: ${(err as Error).message}`
  }
  if (!ok) { return 'a cell proof does not open its blob\'s commitment (KZG)' }
  for (const key of unchecked) { checkedBlobs.set(key, true) }
  return undefined
}
