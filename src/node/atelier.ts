/**
 * The public facade for proposers, relays and analytics: `Atelier.read` follows the committee's sealed
 * candidates, each with `toExecutionPayload()` (the Engine API's `engine_newPayloadV4` parameters);
 * `Atelier.verify` checks one against the pinned roster.
 */
import { verify } from '../config/index.ts'
import { Reader } from '../p2p/index.ts'
import { toExecutionPayload } from '../proto/index.ts'
import type { Config } from '../config/index.ts'
import type { ReaderOptions } from '../p2p/index.ts'
import type { CandidateValue, EngineNewPayloadV4 } from '../proto/index.ts'

/** A verified candidate as `Atelier.read` yields it. */
export type ReadCandidate = CandidateValue & {
  /** the Engine API's `engine_newPayloadV4` parameters, by name */
  toExecutionPayload(): EngineNewPayloadV4
}

/** A reader whose candidates carry `toExecutionPayload()`. */
export type CandidateFeed = Reader & AsyncIterable<ReadCandidate>

function withPayload (c: CandidateValue): ReadCandidate {
  // not enumerable: the candidate stays the SSZ value it was (equality, encoding, JSON)
  return Object.defineProperty(c, 'toExecutionPayload', { value: () => toExecutionPayload(c), enumerable: false }) as ReadCandidate
}

export const Atelier = {
  /** Connects with a read ticket and yields verified candidates in slot order. */
  read: async (options: ReaderOptions): Promise<CandidateFeed> => {
    const reader = await Reader.start(options)
    const candidates = reader[Symbol.asyncIterator].bind(reader)
    Object.defineProperty(reader, Symbol.asyncIterator, {
      value: async function * (): AsyncGenerator<ReadCandidate> {
        for await (const c of { [Symbol.asyncIterator]: candidates }) { yield withPayload(c) }
      }
    })
    return reader as CandidateFeed
  },
  /** Pure: the candidate was sealed by a strict majority of the config's roster. */
  verify: (candidate: CandidateValue, config: Config): boolean => verify(candidate, config)
}
