/**
 * Walks a member's sealed candidates from a slot on over the sync stream, page by page: the one loop
 * that a reader's backfill and a member's catch-up share. Only an empty page ends the walk as
 * complete: a page can be short because of the response's byte cap, not only because the range ran out.
 */
import { requestCandidates } from './streams.ts'
import type { Plane } from './plane.ts'
import type { CandidateValue } from '../proto/index.ts'
import type { PeerId } from '@libp2p/interface'

export interface SyncPagerOptions {
  /** the peers to ask, in order: a page goes to the next one when a peer fails */
  peers(): PeerId[]
  /** pages at most (default 1000: 64,000 slots) */
  maxPages?: number
  /** checked before each page: true ends the walk (incomplete) */
  stopped?(): boolean
  onError?(peer: PeerId, err: Error): void
}

export interface SyncWalk {
  /** an empty page was reached: every candidate from `from` on that the peers hold was seen */
  complete: boolean
  pages: number
  /** the slot after the last candidate seen (`from` when none) */
  next: number
}

/** Requests pages from `from` on and hands each (non-empty, in slot order) to `onPage`. */
export async function syncCandidates (plane: Plane, from: number, options: SyncPagerOptions, onPage: (page: CandidateValue[]) => Promise<void> | void): Promise<SyncWalk> {
  const maxPages = options.maxPages ?? 1000
  let next = from
  for (let pages = 0; pages < maxPages; pages++) {
    if (options.stopped?.() === true) {
      return { complete: false, pages, next }
    }
    let page: CandidateValue[] | undefined
    for (const peer of options.peers()) {
      try {
        page = await requestCandidates(plane, peer, next, Number.MAX_SAFE_INTEGER)
        break
      } catch (err) {
        options.onError?.(peer, err as Error)
      }
    }
    if (page == null) {
      return { complete: false, pages, next }
    }
    const last = page.at(-1)
    if (last == null) {
      return { complete: true, pages, next }
    }
    if (last.slot < next) {
      // an answer outside the asked range would loop forever: stop here
      return { complete: false, pages, next }
    }
    await onPage(page)
    next = last.slot + 1
  }
  return { complete: false, pages: maxPages, next }
}
