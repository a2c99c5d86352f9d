/**
 * What a testnet run sealed, in figures: the verified candidates' slot range and gaps, the
 * transactions they hold, and seal-latency percentiles (nearest rank) over the slots the follower
 * verified; and, in the closed loop, the chain's side: blocks from the committee and fallbacks,
 * second-EVM mismatches, non-canonical roots, blobs proposed (and candidates left for want of their
 * blobs), the warm share, the block value. Pure.
 *
 * Owns runStats, closedLoopStats and slotProgress.
 */
import { leaderFor } from '../../machine/index.ts'
import type { ProposedBlock } from './proposer.ts'
import type { SlotProgress } from './testnet-options.ts'
import type { CandidateValue } from '../../proto/index.ts'

export interface RunStats {
  candidatesVerified: number
  firstSlot?: number
  lastSlot?: number
  /** slots between the first and the last verified one that have no candidate */
  skippedSlots: number
  transactionsIncluded: number
  sealLatencyP50Ms?: number
  sealLatencyP95Ms?: number
}

/** Nearest-rank percentile of ascending `sorted` (undefined when empty). */
export function percentile (sorted: number[], p: number): number | undefined {
  return sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

export function runStats (candidates: ReadonlyMap<number, CandidateValue>, sealLatency: ReadonlyMap<number, number>): RunStats {
  const slots = [...candidates.keys()].sort((a, b) => a - b)
  const lat = [...sealLatency.entries()].filter(([s]) => candidates.has(s)).map(([, ms]) => ms).sort((a, b) => a - b)
  return {
    candidatesVerified: candidates.size,
    firstSlot: slots[0],
    lastSlot: slots.at(-1),
    skippedSlots: slots.length > 0 ? (slots[slots.length - 1] - slots[0] + 1) - slots.length : 0,
    transactionsIncluded: [...candidates.values()].reduce((n, c) => n + c.body.length, 0),
    sealLatencyP50Ms: percentile(lat, 50),
    sealLatencyP95Ms: percentile(lat, 95)
  }
}

/** The proposer's counts, as its summary gives them. */
export interface ProposerCounts {
  proposed: number
  fallbacks: number
  mismatches: number
  stateRootsDiffer: number
  blobsVerified: number
  blobsUnavailable: number
  blocks: ProposedBlock[]
}

export function closedLoopStats (p: ProposerCounts, warmShare: number): Record<string, number | string> {
  return {
    blocksFromCommittee: p.proposed,
    fallbackBlocks: p.fallbacks,
    secondEvmMismatches: p.mismatches,
    stateRootsNotCanonical: p.stateRootsDiffer,
    blobsProposed: p.blobsVerified,
    candidatesWithoutBlobs: p.blobsUnavailable,
    warmParentShare: Math.round(warmShare * 100) / 100,
    blockValueWei: String(p.blocks.reduce((v, b) => v + (b.candidate?.blockValue ?? 0n), 0n))
  }
}

/** A slot's line: its candidate (if the committee made one) and the block hash it has. */
export function slotProgress (slot: number, c: CandidateValue | undefined, blockHash: string, committee: number, sealLatencyMs?: number): SlotProgress {
  return {
    slot,
    leader: leaderFor(slot, committee),
    txs: c?.body.length ?? 0,
    gas: c?.header.gasUsed ?? 0,
    signers: c?.committeeRoster.length ?? 0,
    committee,
    sealLatencyMs,
    verified: c != null,
    blockHash,
    blockValue: c?.blockValue ?? 0n
  }
}
