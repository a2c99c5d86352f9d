/**
 * The public facade for proposers, relays and analytics: `Atelier.read` follows the committee's sealed
 * candidates; `Atelier.verify` checks one against the pinned roster.
 */
import { verify } from '../config/index.ts'
import { Reader } from '../p2p/index.ts'
import type { Config } from '../config/index.ts'
import type { ReaderOptions } from '../p2p/index.ts'
import type { CandidateValue } from '../proto/index.ts'

export const Atelier = {
  /** Connects with a read ticket and yields verified candidates in slot order. */
  read: async (options: ReaderOptions): Promise<Reader> => Reader.start(options),
  /** Pure: the candidate was sealed by a strict majority of the config's roster. */
  verify: (candidate: CandidateValue, config: Config): boolean => verify(candidate, config)
}
