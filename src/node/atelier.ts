/**
 * The public facade for proposers, relays and analytics: `Atelier.read` follows the committee's sealed
 * candidates, each with `toExecutionPayload()` (the Engine API's `engine_newPayloadV4` parameters)
 * and `blobsBundle()` (its blobs, fetched from a member and checked by KZG against its body);
 * `Atelier.verify` checks one against the pinned roster.
 */
import { verify } from '../config/index.ts'
import { Reader } from '../p2p/index.ts'
import { candidateVersionedHashes, toExecutionPayload } from '../proto/index.ts'
import { KzgChecker } from './kzg-checker.ts'
import type { Config } from '../config/index.ts'
import type { ReaderOptions } from '../p2p/index.ts'
import type { BlobsBundleValue, CandidateValue, EngineNewPayloadV4 } from '../proto/index.ts'

/** A verified candidate as `Atelier.read` yields it. */
export type ReadCandidate = CandidateValue & {
  /** the Engine API's `engine_newPayloadV4` parameters, by name */
  toExecutionPayload(): EngineNewPayloadV4
  /** its blobs (`BlobsBundleV2`), checked against its body by KZG; throws BlobsBundleError if no member serves good ones */
  blobsBundle(): Promise<BlobsBundleValue>
}

export class BlobsBundleError extends Error {
  readonly code = 'blobs-bundle'
}

/**
 * The KZG check's worker thread, shared by every reader of the process and made with the first bundle
 * that has blobs (~0.5 s of CPU a blob: off the reader's event loop; it never holds the process open)
 */
let bundleChecker: KzgChecker | undefined

/**
 * The candidate's blobs from a member the reader is connected to, checked against the candidate's
 * versioned hashes (commitments) and by the cell proofs (KZG); a candidate without blobs has an
 * empty bundle and asks nobody.
 */
export async function fetchBlobsBundle (reader: Reader, c: Pick<CandidateValue, 'body' | 'slot'>): Promise<BlobsBundleValue> {
  const hashes = candidateVersionedHashes(c)
  if (hashes.length === 0) { return { commitments: [], proofs: [], blobs: [] } }
  let bundle: BlobsBundleValue
  try {
    bundle = await reader.blobs(hashes)
  } catch (err) {
    throw new BlobsBundleError(`slot ${c.slot}: ${(err as Error).message}`)
  }
  let wrong: string | undefined
  try {
    wrong = await (bundleChecker ??= new KzgChecker()).bundleMismatch(bundle, hashes)
  } catch (err) {
    throw new BlobsBundleError(`slot ${c.slot}: the blobs could not be checked: ${(err as Error).message}`)
  }
  if (wrong != null) { throw new BlobsBundleError(`slot ${c.slot}: the blobs a member served are not the candidate's: ${wrong}`) }
  return bundle
}

/** A reader whose candidates carry `toExecutionPayload()`. */
export type CandidateFeed = Reader & AsyncIterable<ReadCandidate>

function withPayload (c: CandidateValue, reader: Reader): ReadCandidate {
  // not enumerable: the candidate stays the SSZ value it was (equality, encoding, JSON)
  return Object.defineProperties(c, {
    toExecutionPayload: { value: () => toExecutionPayload(c), enumerable: false },
    blobsBundle: { value: async () => fetchBlobsBundle(reader, c), enumerable: false }
  }) as ReadCandidate
}

export const Atelier = {
  /** Connects with a read ticket and yields verified candidates in slot order. */
  read: async (options: ReaderOptions): Promise<CandidateFeed> => {
    const reader = await Reader.start(options)
    const candidates = reader[Symbol.asyncIterator].bind(reader)
    Object.defineProperty(reader, Symbol.asyncIterator, {
      value: async function * (): AsyncGenerator<ReadCandidate> {
        for await (const c of { [Symbol.asyncIterator]: candidates }) { yield withPayload(c, reader) }
      }
    })
    return reader as CandidateFeed
  },
  /** Pure: the candidate was sealed by a strict majority of the config's roster. */
  verify: (candidate: CandidateValue, config: Config): boolean => verify(candidate, config)
}
