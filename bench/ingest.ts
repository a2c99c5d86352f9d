/**
 * Section `ingest`: the transaction gate (src/node/tx-gate.ts) on a real chain (anvil, proven head
 * state, as a member runs it): transactions judged per second for valid ones, for unfunded senders
 * (each sender's account proven to refuse it) and for a wrong chain id (refused before any state is
 * read); then a 200-transaction slot simulated on a cold proven parent alone, and while a flood of
 * unfunded transactions goes through the gate on the same event loop, with the member's slot priority
 * (the gate waits while a simulation runs) and without it (the baseline it is measured against), the
 * three timed in alternation. Target: the flooded slot with priority ≤ 1.2 × the unflooded one.
 */
import { hexToBytes } from '@ethereumjs/util'
import { ChainRpc, parentHeaderOf, ProvenParent, ProvenParentCache, provenStateSource } from '../src/chain/index.ts'
import { makeCommon, simulateSlot } from '../src/core/index.ts'
import { gateState } from '../src/node/member/gate-state.ts'
import { SlotPriority, TxGate, TxRefusal } from '../src/node/index.ts'
import { Workload } from '../src/node/workload/workload.ts'
import { Anvil } from '../test/fixtures/anvil.ts'
import { mixedTransactions, prepareChain, RULES } from '../test/fixtures/chain-workload.ts'
import { percentile, round, table } from './harness.ts'
import type { BenchSection } from './harness.ts'
import type { RpcBlock } from '../src/chain/index.ts'
import type { SlotInputs } from '../src/core/index.ts'

const BATCH = 100
const SLOT_RUNS = 15

/** `count` transfers signed by fresh, unfunded keys (distinct transactions: no decode is cached). */
function unfunded (count: number, seed: number, chainId = RULES.chainId): Uint8Array[] {
  const keys = Array.from({ length: count }, (_, i) => hexToBytes(`0x${(seed * 1_000_000 + i + 1).toString(16).padStart(64, '0')}`))
  const w = new Workload(makeCommon({ ...RULES, chainId }), keys)
  return keys.map((_, i) => w.ethTransfer(i, w.addresses[(i + 1) % count], 1n))
}

async function perSecond (gate: TxGate, txs: Uint8Array[]): Promise<{ rate: number, refused: number }> {
  let refused = 0
  const t0 = performance.now()
  for (let i = 0; i < txs.length; i += BATCH) {
    refused += (await gate.admit(txs.slice(i, i + BATCH))).filter(o => o instanceof TxRefusal).length
  }
  return { rate: txs.length / ((performance.now() - t0) / 1000), refused }
}

export async function ingestBench (): Promise<BenchSection> {
  const anvil = await Anvil.start({ noMining: true, order: 'fifo' })
  try {
    const rpc = new ChainRpc(anvil.url)
    const chain = await prepareChain(anvil, 200, 'ingest')
    const head = await anvil.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    const parents = new ProvenParentCache(rpc)
    const gate = new TxGate({ rules: () => RULES, head: () => head, state: async h => gateState(await parents.get(h.hash)) })

    const valid = mixedTransactions(chain.workload, chain.token, 1000)
    const rates = {
      valid: await perSecond(gate, valid),
      unfunded: await perSecond(gate, unfunded(2000, 1)),
      wrongChain: await perSecond(gate, unfunded(2000, 2, 1))
    }

    // the slot: 200 transactions from senders the gate has not seen, on the head's proven state, warm
    const slotTxs = mixedTransactions(chain.workload, chain.token, 200)
    const inputs: SlotInputs = {
      parent: parentHeaderOf(head),
      env: { timestamp: BigInt(head.timestamp) + 12n, feeRecipient: new Uint8Array(20).fill(0xfe), prevRandao: new Uint8Array(32).fill(7), gasLimit: 60_000_000n },
      auctionWinner: { txs: slotTxs, revertProtected: false },
      hints: [],
      unsealed: []
    }
    const priority = new SlotPriority()
    // a cold parent, as a member opens the next slot's: the slot waits on proofs, and the event loop is
    // free for anything else in between (which is where a flood would land)
    const simulate = async (parent: ProvenParent): Promise<unknown> => priority.during(async () => simulateSlot(inputs, RULES, provenStateSource(parent)))

    const flood = unfunded(8000, 3)
    let next = 0
    let wrapped = false
    let flooded = 0
    let mode = 'off' as 'off' | 'priority' | 'none'
    const floodLoop = async (): Promise<void> => {
      while (mode !== 'off') {
        if (mode === 'priority') { await priority.idle() }
        if (next + BATCH > flood.length) {
          next = 0
          wrapped = true
        }
        const batch = flood.slice(next, next += BATCH)
        await gate.admit(batch)
        flooded += batch.length
        await new Promise(resolve => setImmediate(resolve))
      }
    }
    /** the slot's own time (not the flood's start and wind-down), with the flood in mode `m` */
    const timed = async (m: typeof mode): Promise<number> => {
      mode = m
      const loop = m === 'off' ? Promise.resolve() : floodLoop()
      // let the flood get going before the slot starts
      if (m !== 'off') { await new Promise(resolve => setTimeout(resolve, 50)) }
      const parent = await ProvenParent.open(rpc, head.hash)
      const t0 = performance.now()
      const before = flooded
      await simulate(parent)
      const ms = performance.now() - t0
      if (process.env.INGEST_DEBUG != null) { process.stderr.write(`${m} ${ms.toFixed(1)} ms, flood batches during: ${(flooded - before) / BATCH}\n`) }
      mode = 'off'
      await loop
      return ms
    }
    const t0 = performance.now()
    const runs = { alone: [] as number[], flooded: [] as number[], floodedNoPriority: [] as number[] }
    for (let i = 0; i < 2 + SLOT_RUNS; i++) {
      // alternated (a, b, c, c, b, a, …) so drift on the shared machine falls on every variant alike
      const order: Array<[keyof typeof runs, typeof mode]> = [['alone', 'off'], ['flooded', 'priority'], ['floodedNoPriority', 'none']]
      for (const [k, m] of i % 2 === 0 ? order : order.reverse()) {
        const ms = await timed(m)
        if (i >= 2) { runs[k].push(ms) }
      }
    }
    const slot = { alone: percentile(runs.alone, 50), flooded: percentile(runs.flooded, 50), floodedNoPriority: percentile(runs.floodedNoPriority, 50) }
    const floodSeconds = (performance.now() - t0) / 1000

    const json = {
      gatePerSecond: { valid: round(rates.valid.rate, 0), unfunded: round(rates.unfunded.rate, 0), wrongChainId: round(rates.wrongChain.rate, 0) },
      refused: { valid: rates.valid.refused, unfunded: rates.unfunded.refused, wrongChainId: rates.wrongChain.refused },
      slotMs: { alone: round(slot.alone), flooded: round(slot.flooded), floodedNoPriority: round(slot.floodedNoPriority) },
      floodedOverAlone: round(slot.flooded / slot.alone),
      floodedNoPriorityOverAlone: round(slot.floodedNoPriority / slot.alone),
      floodTransactions: flooded,
      floodReusedDecodes: wrapped
    }
    return {
      json,
      markdown: table(['transactions', 'judged per second', 'refused'], [
        ['1000 valid (200 funded senders)', json.gatePerSecond.valid, `${rates.valid.refused} of 1000`],
        ['2000 from unfunded senders', json.gatePerSecond.unfunded, `${rates.unfunded.refused} of 2000`],
        ['2000 with a wrong chain id', json.gatePerSecond.wrongChainId, `${rates.wrongChain.refused} of 2000`]
      ]) + '\n\n' + table(['200-tx slot, cold proven parent', 'median ms', '÷ alone'], [
        ['alone', json.slotMs.alone, 1],
        ['flooded, slot priority (what members run)', json.slotMs.flooded, json.floodedOverAlone],
        ['flooded, no priority (baseline)', json.slotMs.floodedNoPriority, json.floodedNoPriorityOverAlone]
      ]) + `\n\nBatches of ${BATCH} through the gate (one proof batch per batch). The flood: ${flooded} transactions from unfunded senders (${flood.length} distinct) in ${round(floodSeconds, 1)} s of slot runs (${SLOT_RUNS} runs of each variant, interleaved)${wrapped ? '; past the first ' + String(flood.length) + ' they came again, decoded already, so the later flood cost the gate less than fresh junk would' : ''}. Target: flooded with priority ≤ 1.2 × alone.`
    }
  } finally {
    await anvil.stop()
  }
}
