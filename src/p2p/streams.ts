/**
 * The two request/response protocols on the public plane, length-prefixed over one libp2p stream:
 *
 * - `/atelier/hint/1.0.0`: a co-builder sends `HintBundle`s; each gets a verdict (accepted, or why not;
 * one over MAX_HINT_BYTES is refused by its size, unread beyond MAX_MESSAGE_BYTES). Only peers admitted
 * as co-builders may open it.
 * - `/atelier/candidates/sync/1.0.0`: `{ from, to }` → the sealed candidates with from ≤ slot ≤ to, in
 * slot order, at most MAX_SYNC_RANGE of them and MAX_SYNC_RESPONSE_BYTES, then an empty frame.
 * Members and readers may open it.
 */
import { ContainerType, UintNumberType } from '@chainsafe/ssz'
import { decodeMessage, decodeSsz, encodeMessage, MAX_HINT_BYTES, MAX_MESSAGE_BYTES } from '../proto/index.ts'
import { decodeVerdict, encodeVerdict } from './frames.ts'
import { isFrameTooLong, messageStream } from './message-stream.ts'
import type { MessageStream } from './message-stream.ts'
import type { Plane } from './plane.ts'
import type { Role } from '../enclave/index.ts'
import type { CandidateValue, HintBundleValue } from '../proto/index.ts'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export const HINT_PROTOCOL = '/atelier/hint/1.0.0'
export const SYNC_PROTOCOL = '/atelier/candidates/sync/1.0.0'
export const MAX_SYNC_RANGE = 64
export const MAX_SYNC_RESPONSE_BYTES = 16 * 1024 * 1024
const STREAM_TIMEOUT_MS = 10_000

const Uint64 = new UintNumberType(8)
const SyncRequest = new ContainerType({ from: Uint64, to: Uint64 }, { typeName: 'SyncRequest' })

export interface HintVerdict {
  accepted: boolean
  reason: string
}

export type HintHandler = (hint: HintBundleValue, from: PeerId) => Promise<HintVerdict> | HintVerdict

export interface CandidateRangeSource {
  candidateRange(from: number, to: number, limit: number): Promise<Array<{ slot: number, bytes: Uint8Array }>>
}

function roleOf (plane: Plane, connection: Connection): Role | undefined {
  return plane.registry.roleOf(connection.remotePeer)
}

/** Serves the hint stream: co-builders only; every hint answered. */
export async function serveHints (plane: Plane, onHint: HintHandler, onRefused?: (peer: PeerId, role: Role | undefined) => void): Promise<void> {
  await plane.node.handle(HINT_PROTOCOL, async (stream: Stream, connection: Connection) => {
    const lp = messageStream(stream)
    const role = roleOf(plane, connection)
    try {
      if (role !== 'cobuilder') {
        onRefused?.(connection.remotePeer, role)
        await lp.write(encodeVerdict(false, 'only co-builders may send hints'))
        await stream.close()
        return
      }
      for (;;) {
        let frame
        try {
          frame = await lp.read()
        } catch (err) {
          if (isFrameTooLong(err)) {
            await lp.write(encodeVerdict(false, tooLarge(`over ${MAX_MESSAGE_BYTES}`)))
          }
          break // the co-builder closed its end, or sent what cannot be read
        }
        let verdict: HintVerdict
        if (frame.byteLength > MAX_HINT_BYTES) {
          verdict = { accepted: false, reason: tooLarge(String(frame.byteLength)) }
        } else {
          try {
            verdict = await onHint(decodeMessage('HintBundle', frame.subarray()), connection.remotePeer)
          } catch (err) {
            verdict = { accepted: false, reason: (err as Error).message }
          }
        }
        await lp.write(encodeVerdict(verdict.accepted, verdict.reason))
      }
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { runOnLimitedConnection: false })
}

function tooLarge (size: string): string {
  return `hint of ${size} bytes: a hint is at most ${MAX_HINT_BYTES} bytes (MAX_HINT_BYTES: an accepted hint goes on to the committee in one gossip message)`
}

/** A co-builder's open hint stream to one member. */
export class HintSender {
  readonly #lp: MessageStream
  readonly #stream: Stream

  private constructor (stream: Stream) {
    this.#stream = stream
    this.#lp = messageStream(stream)
  }

  static async open (plane: Plane, member: PeerId | Multiaddr): Promise<HintSender> {
    return new HintSender(await plane.node.dialProtocol(member, HINT_PROTOCOL, { signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) }))
  }

  async send (hint: HintBundleValue): Promise<HintVerdict> {
    const signal = AbortSignal.timeout(STREAM_TIMEOUT_MS)
    const bytes = encodeMessage('HintBundle', hint)
    if (bytes.length > MAX_MESSAGE_BYTES) {
      // no member would read it: said here, not by a reset
      return { accepted: false, reason: `not sent: ${tooLarge(String(bytes.length))}` }
    }
    await this.#lp.write(bytes, { signal })
    return decodeVerdict((await this.#lp.read({ signal })).subarray())
  }

  /** The member's answer when it refuses the stream itself (sent before any hint). */
  async refusal (): Promise<HintVerdict> {
    return decodeVerdict((await this.#lp.read({ signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) })).subarray())
  }

  async close (): Promise<void> {
    await this.#stream.close().catch(() => {})
  }
}

/** Serves candidate sync from the store: members and readers. */
export async function serveSync (plane: Plane, source: CandidateRangeSource): Promise<void> {
  await plane.node.handle(SYNC_PROTOCOL, async (stream: Stream, connection: Connection) => {
    const lp = messageStream(stream)
    try {
      const role = roleOf(plane, connection)
      if (role !== 'member' && role !== 'reader') {
        stream.abort(new Error(`${role ?? 'unadmitted peer'} may not sync`))
        return
      }
      const req = decodeSsz(SyncRequest, (await lp.read({ signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) })).subarray(), 'SyncRequest')
      let sent = 0
      for (const { bytes } of await source.candidateRange(req.from, req.to, MAX_SYNC_RANGE)) {
        if (sent + bytes.length > MAX_SYNC_RESPONSE_BYTES) {
          break
        }
        await lp.write(bytes)
        sent += bytes.length
      }
      await lp.write(new Uint8Array(0))
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { runOnLimitedConnection: false })
}

/** Requests the first (at most MAX_SYNC_RANGE) candidates with from ≤ slot ≤ to from one peer. */
export async function requestCandidates (plane: Plane, peer: PeerId, from: number, to: number): Promise<CandidateValue[]> {
  const signal = AbortSignal.timeout(STREAM_TIMEOUT_MS)
  const stream = await plane.node.dialProtocol(peer, SYNC_PROTOCOL, { signal })
  const lp = messageStream(stream)
  try {
    await lp.write(SyncRequest.serialize({ from, to }), { signal })
    const out: CandidateValue[] = []
    for (let i = 0; i <= MAX_SYNC_RANGE; i++) {
      const frame = (await lp.read({ signal })).subarray()
      if (frame.length === 0) {
        break
      }
      out.push(decodeMessage('Candidate', frame))
    }
    await stream.close()
    return out
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
