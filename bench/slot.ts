/**
 * Section `slot`: end-to-end slot latency on the testnet (members as processes, anvil, load of 200
 * transactions per slot): the leader's OpenSlot → the candidate verified by the follower, split into
 * the sealer's simulation time and the rest (protocol overhead: gossip, agreement, sealing, publication,
 * verification). p50 and p95 over at least 30 slots, for 4 and 7 members.
 */
import { Testnet } from '../src/node/index.ts'
import { percentile, round, table } from './harness.ts'
import type { BenchSection } from './harness.ts'

async function run (members: number, blockTime: number, slots: number): Promise<Record<string, number>> {
  const net = await Testnet.start({ members, blockTime, txsPerSlot: 200, cobuilder: false })
  try {
    // skip the warm-up slots (empty pool, cold caches), then measure `slots`
    await net.waitForCandidates(3, 180_000)
    const skip = new Set(net.candidates.keys())
    await net.waitForCandidates(skip.size + slots, slots * blockTime * 4000 + 120_000)
    const measured = [...net.candidates.keys()].filter(s => !skip.has(s) && net.openedAt.has(s) && net.verifiedAt.has(s))
    const total = measured.map(s => (net.verifiedAt.get(s) as number) - (net.openedAt.get(s) as number))
    const overhead = measured.filter(s => net.simulationMs.has(s)).map(s => (net.verifiedAt.get(s) as number) - (net.openedAt.get(s) as number) - (net.simulationMs.get(s) as number))
    const sim = measured.filter(s => net.simulationMs.has(s)).map(s => net.simulationMs.get(s) as number)
    const txs = measured.map(s => net.candidates.get(s)?.body.length ?? 0)
    return {
      members,
      txsPerSlot: round(percentile(txs, 50), 0),
      slots: measured.length,
      p50Ms: round(percentile(total, 50), 0),
      p95Ms: round(percentile(total, 95), 0),
      simulationP50Ms: round(percentile(sim, 50), 0),
      overheadP50Ms: round(percentile(overhead, 50), 0)
    }
  } finally {
    await net.stop()
  }
}

export async function slotBench (): Promise<BenchSection> {
  const rows = [await run(4, 2, 30), await run(7, 3, 30)]
  return {
    json: { committees: rows },
    markdown: table(['members', 'txs per slot (p50)', 'slots', 'p50 ms', 'p95 ms', 'simulation p50 ms', 'overhead p50 ms'],
      rows.map(r => [r.members, r.txsPerSlot, r.slots, r.p50Ms, r.p95Ms, r.simulationP50Ms, r.overheadP50Ms])) +
      '\n\nTargets: p50 ≤ 250 ms, protocol overhead ≤ 20 ms. All member processes, anvil, the load generator and the follower share 2 cores: every member simulates every slot, so simulation time grows with the committee on this machine, and "overhead" includes waiting for the slower members of the majority, whose simulations share those cores (the load for the next slot arrives mid-slot).'
  }
}
