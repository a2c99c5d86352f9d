/**
 * Section `slot`: the closed loop end to end (members as processes, anvil driven by the testnet's
 * proposer, a load of 200 transactions per slot): payload attributes out → the slot's candidate
 * verified at the proposer (the follower it takes candidates from), split into the sealer's
 * simulation and the rest (gossip, agreement, sealing, publication, verification). p50 and p95 over
 * at least 30 slots, for 4 and 7 members; simulation p50 on warm parents (the member's own
 * post-state) and, in a run with warm state off (`--no-warm-state`, every parent proven), on cold
 * ones; and an empty-slot row, the protocol's own floor.
 */
import { Testnet } from '../src/node/index.ts'
import { percentile, round, table } from './harness.ts'
import type { BenchSection } from './harness.ts'

interface Run { members: number, blockTime: number, slots: number, txsPerSlot: number, warmState?: boolean, label: string, linkDelayMs?: number }

async function run (r: Run): Promise<Record<string, number | string>> {
  const net = await Testnet.start({ members: r.members, blockTime: r.blockTime, txsPerSlot: r.txsPerSlot, cobuilder: false, warmState: r.warmState, linkProxies: r.linkDelayMs != null })
  try {
    net.links.setDelay(r.linkDelayMs ?? 0)
    // skip the warm-up slots (empty pool, cold caches), then measure `slots`
    await net.waitForCandidates(3, 180_000)
    const skip = new Set(net.candidates.keys())
    await net.waitForCandidates(skip.size + r.slots, r.slots * r.blockTime * 4000 + 120_000)
    const measured = [...net.candidates.keys()].filter(s => !skip.has(s) && net.announcedAt.has(s) && net.verifiedAt.has(s))
    const total = (s: number): number => (net.verifiedAt.get(s) as number) - (net.announcedAt.get(s) as number)
    const withSim = measured.filter(s => net.simulationMs.has(s))
    const sim = (warm: boolean): number[] => withSim.filter(s => net.sealerWarm.get(s) === warm).map(s => net.simulationMs.get(s) as number)
    const p50 = (xs: number[]): number | string => xs.length === 0 ? '–' : round(percentile(xs, 50), 0)
    return {
      label: r.label,
      members: r.members,
      txsPerSlot: round(percentile(measured.map(s => net.candidates.get(s)?.body.length ?? 0), 50), 0),
      slots: measured.length,
      p50Ms: round(percentile(measured.map(total), 50), 0),
      p95Ms: round(percentile(measured.map(total), 95), 0),
      warmSimP50Ms: p50(sim(true)),
      coldSimP50Ms: p50(sim(false)),
      restP50Ms: round(percentile(withSim.map(s => total(s) - (net.simulationMs.get(s) as number)), 50), 0),
      warmShare: round(sim(true).length / Math.max(1, withSim.length), 2),
      fallbacks: net.proposer?.fallbacks ?? 0,
      mismatches: net.proposer?.mismatches ?? 0
    }
  } finally {
    await net.stop()
  }
}

export async function slotBench (): Promise<BenchSection> {
  // `BENCH_SLOT_ROWS=3,4,5` runs those rows only (0-based), e.g. the empty-slot and WAN rows
  const only = process.env.BENCH_SLOT_ROWS?.split(',').map(Number)
  const all: Run[] = [
    { label: '4 members', members: 4, blockTime: 2, slots: 30, txsPerSlot: 200 },
    { label: '4 members, warm state off', members: 4, blockTime: 2, slots: 30, txsPerSlot: 200, warmState: false },
    { label: '7 members', members: 7, blockTime: 3, slots: 30, txsPerSlot: 200 },
    { label: 'empty slots, 4 members', members: 4, blockTime: 1, slots: 30, txsPerSlot: 0 },
    // WAN: every pair of members through link proxies, first without delay (the baseline), then 20 ms
    // each way (a 40 ms round trip between every pair); the protocol's overhead is the difference
    { label: 'empty slots, 4 members, link proxies, no delay', members: 4, blockTime: 1, slots: 30, txsPerSlot: 0, linkDelayMs: 0 },
    { label: 'empty slots, 4 members, 40 ms round trip', members: 4, blockTime: 1, slots: 30, txsPerSlot: 0, linkDelayMs: 20 }
  ]
  const rows = []
  for (const [i, r] of all.entries()) { if (only == null || only.includes(i)) { rows.push(await run(r)) } }
  return {
    json: { runs: rows },
    markdown: table(['run', 'txs per slot (p50)', 'slots', 'p50 ms', 'p95 ms', 'simulation p50 ms, warm parent', 'simulation p50 ms, cold parent', 'rest p50 ms', 'warm share', 'fallback blocks', 'second-EVM mismatches'],
      rows.map(r => [r.label, r.txsPerSlot, r.slots, r.p50Ms, r.p95Ms, r.warmSimP50Ms, r.coldSimP50Ms, r.restP50Ms, r.warmShare, r.fallbacks, r.mismatches])) +
      '\n\nFrom the payload attributes going out to the candidate verified at the proposer. Targets: 4 members p50 ≤ 200 ms; warm simulation ≥ 2× faster than cold (the two 4-member runs: the same workload, not the same slots); empty slots p50 ≤ 20 ms; at 40 ms round trip between every pair of members, the protocol\'s overhead (p50 over the no-delay row through the same proxies) ≤ 3 round trips + 20 ms = 140 ms. All member processes, anvil, the proposer, the load generator and the follower share 2 cores: every member simulates every slot, and "rest" includes waiting for the slower members of the majority, whose simulations share those cores.'
  }
}
