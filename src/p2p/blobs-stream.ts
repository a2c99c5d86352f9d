/**
 * `/atelier/blobs/1.0.0` on the public plane: a candidate's blobs, which do not travel with it on
 * gossip (a candidate with nine blobs would weigh 1.2 MB more, for every light subscriber, most of
 * which never publish a block). A proposer (a reader) or a member sends `BlobsRequest` (the versioned
 * hashes, in its body's order) and gets a verdict frame, then, if the member holds them all, the
 * `BlobsBundle` (MAX_BLOBS_PER_BUNDLE blobs, 4.4 MB, at most). The bundle is not signed: the
 * candidate's body commits to the versioned hashes, so the asker checks it by KZG (core's
 * `blobsBundleMismatch`) against a candidate it verified.
 */
import { decodeSsz, ssz, toHex } from '../proto/index.ts'
import { decodeVerdict, encodeVerdict } from './frames.ts'
import { messageStream } from './message-stream.ts'
import type { Plane } from './plane.ts'
import type { BlobsBundleValue } from '../proto/index.ts'
import type { Connection, PeerId, Stream } from '@libp2p/interface'

export const BLOBS_PROTOCOL = '/atelier/blobs/1.0.0'
const STREAM_TIMEOUT_MS = 10_000

export interface BlobSource {
  bundle(versionedHashes: Uint8Array[]): { bundle: BlobsBundleValue } | { absent: Uint8Array }
}

/** Serves blob bundles from `source`: members and readers only. */
export async function serveBlobs (plane: Plane, source: BlobSource): Promise<void> {
  await plane.node.handle(BLOBS_PROTOCOL, async (stream: Stream, connection: Connection) => {
    const lp = messageStream(stream)
    try {
      const role = plane.registry.roleOf(connection.remotePeer)
      if (role !== 'member' && role !== 'reader') {
        stream.abort(new Error(`${role ?? 'unadmitted peer'} may not fetch blobs`))
        return
      }
      const req = decodeSsz(ssz.BlobsRequest, (await lp.read({ signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) })).subarray(), 'BlobsRequest')
      const found = source.bundle(req.versionedHashes)
      if ('absent' in found) {
        await lp.write(encodeVerdict(false, `blob 0x${toHex(found.absent)} is not held here`))
      } else {
        await lp.write(encodeVerdict(true, 'held'))
        await lp.write(ssz.BlobsBundle.serialize(found.bundle))
      }
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { runOnLimitedConnection: false })
}

export class BlobsUnavailableError extends Error {
  readonly code = 'blobs-unavailable'
}

/** The bundle of these versioned hashes from one peer, unchecked; throws BlobsUnavailableError with its refusal. */
export async function requestBlobs (plane: Plane, peer: PeerId, versionedHashes: Uint8Array[]): Promise<BlobsBundleValue> {
  const signal = AbortSignal.timeout(STREAM_TIMEOUT_MS)
  const stream = await plane.node.dialProtocol(peer, BLOBS_PROTOCOL, { signal })
  const lp = messageStream(stream)
  try {
    await lp.write(ssz.BlobsRequest.serialize({ versionedHashes }), { signal })
    const verdict = decodeVerdict((await lp.read({ signal })).subarray())
    if (!verdict.accepted) {
      throw new BlobsUnavailableError(`${peer.toString()}: ${verdict.reason}`)
    }
    const bundle = decodeSsz(ssz.BlobsBundle, (await lp.read({ signal })).subarray(), 'BlobsBundle')
    await stream.close()
    return bundle
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
