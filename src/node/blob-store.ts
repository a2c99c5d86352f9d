/**
 * The blob sidecars a member holds, by versioned hash: those of the blob transactions it took in or
 * was relayed, kept after their slot so a proposer can fetch a sealed candidate's blobs. Bounded:
 * 256 sidecars (about 35 MB), least recently used out first — 28 slots of Osaka's 9 blobs, far more
 * than a proposer waits.
 *
 * Owns BlobStore.
 */
import { LRUCache } from 'lru-cache'
import { blobVersionedHashes, bundleOf, toHex, versionedHashOf } from '../proto/index.ts'
import type { BlobSidecarValue, BlobsBundleValue } from '../proto/index.ts'

export const MAX_HELD_SIDECARS = 256

export class BlobStore {
  readonly #byHash: LRUCache<string, BlobSidecarValue>

  constructor (max = MAX_HELD_SIDECARS) {
    this.#byHash = new LRUCache({ max })
  }

  /** Keeps sidecars under the versioned hash their commitment gives. */
  add (sidecars: BlobSidecarValue[]): void {
    for (const s of sidecars) {
      this.#byHash.set(toHex(versionedHashOf(s.commitment)), s)
    }
  }

  get size (): number {
    return this.#byHash.size
  }

  has (versionedHash: Uint8Array): boolean {
    return this.#byHash.has(toHex(versionedHash))
  }

  /** Why these transactions cannot go into a block this member can serve the blobs of; undefined if they can. */
  missing (txs: Uint8Array[]): string | undefined {
    for (const raw of txs) {
      let hashes: Uint8Array[]
      try {
        hashes = blobVersionedHashes(raw)
      } catch {
        continue // malformed: no block takes it (the simulation says why), so no blob of it is needed
      }
      const absent = hashes.find(h => !this.has(h))
      if (absent != null) {
        return `no sidecar held for blob 0x${toHex(absent)}: a blob transaction enters in its network form (eth_sendRawTransaction or eth_sendBundle at a member)`
      }
    }
    return undefined
  }

  /** The bundle of these versioned hashes, in their order; or the first one not held. */
  bundle (versionedHashes: Uint8Array[]): { bundle: BlobsBundleValue } | { absent: Uint8Array } {
    const sidecars: BlobSidecarValue[] = []
    for (const h of versionedHashes) {
      const s = this.#byHash.get(toHex(h))
      if (s == null) { return { absent: h } }
      sidecars.push(s)
    }
    return { bundle: bundleOf(sidecars) }
  }
}
