/**
 * Warm parent state on a real anvil: a parent whose state root the member's own simulation wrote
 * (its block went on chain) starts from that post-state — no proofs for what it holds — and gives
 * exactly the results a parent proven from scratch gives; a parent nobody here simulated takes the
 * proof path.
 */
import { bytesToHex } from '@ethereumjs/util'
import { expect } from 'aegir/chai'
import { ProvenParentCache, provenStateSource, reachableNodes } from '../src/chain/index.ts'
import { simulateSlot } from '../src/core/index.ts'
import { anvilChain, asMined, mine, mixedTransactions, RULES } from './fixtures/chain-workload.ts'

describe('chain: warm parent state from the previous slot\'s post-state', function () {
  this.timeout(120_000)
  const fx = anvilChain(12)

  it('the next parent starts warm, needs fewer round trips, and simulates to the same roots as a cold one; an unsimulated parent is proven', async () => {
    const opened: string[] = []
    const cache = new ProvenParentCache(fx.rpc, { onOpen: path => opened.push(path) })
    const first = await mine(fx.anvil, mixedTransactions(fx.chain.workload, fx.chain.token, 40))
    const a = await simulateSlot(asMined(first), RULES, provenStateSource(await cache.get(first.parent.hash)))
    expect(bytesToHex(a.stateRoot as Uint8Array)).to.equal(first.block.stateRoot)

    // the block just simulated is the next parent: it starts from that simulation's post-state
    const second = await mine(fx.anvil, mixedTransactions(fx.chain.workload, fx.chain.token, 40))
    const warm = await cache.get(second.parent.hash)
    expect(opened).to.deep.equal(['proofs', 'warm'])
    expect(warm.warm).to.equal(true)
    const b = await simulateSlot(asMined(second), RULES, provenStateSource(warm))
    const cold = await new ProvenParentCache(fx.rpc).get(second.parent.hash)
    const c = await simulateSlot(asMined(second), RULES, provenStateSource(cold))
    expect(cold.warm).to.equal(false)
    expect(bytesToHex(b.stateRoot as Uint8Array)).to.equal(second.block.stateRoot).and.equal(bytesToHex(c.stateRoot as Uint8Array))
    expect(bytesToHex(b.receiptsRoot)).to.equal(second.block.receiptsRoot)
    expect(b.included.map(t => t.gasUsed)).to.deep.equal(c.included.map(t => t.gasUsed))
    expect(warm.requests, 'round trips: warm vs cold').to.be.below(cold.requests)

    // a block this cache never simulated: its parent is proven from scratch
    const third = await mine(fx.anvil, mixedTransactions(fx.chain.workload, fx.chain.token, 5))
    await cache.get(third.block.hash)
    expect(opened.at(-1)).to.equal('proofs')
  })

  it('carries over only what the new root reaches', async () => {
    const m = await mine(fx.anvil, mixedTransactions(fx.chain.workload, fx.chain.token, 20))
    const cache = new ProvenParentCache(fx.rpc)
    const parent = await cache.get(m.parent.hash)
    await simulateSlot(asMined(m), RULES, provenStateSource(parent))
    const carried = reachableNodes(parent.nodes, (await cache.get(m.block.hash)).stateRoot)
    expect(carried.size).to.be.greaterThan(0).and.below(parent.nodes.size)
    expect(reachableNodes(parent.nodes, new Uint8Array(32).fill(7)).size, 'an unknown root reaches nothing').to.equal(0)
  })
})
