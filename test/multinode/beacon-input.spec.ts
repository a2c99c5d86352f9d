/**
 * The consensus layer's input on a live committee: five in-process members on a real anvil, three
 * reading the testnet's beacon event source, one reading a beacon node that names another fee
 * recipient for every slot, one reading a beacon node that never announces a slot on this chain.
 * Sealed candidates carry exactly the announced environment (the proposer's fee recipient, the
 * slot's timestamp, prevRandao, withdrawals and parent beacon root) and only the three agreeing
 * members' signatures; the other two refuse, each with its own typed reason and metric. The slots
 * the lying member leads get no candidate; those of the member that hears nothing are opened by the
 * next member by rank.
 */
import { expect } from 'aegir/chai'
import { ChainRpc } from '../../src/chain/index.ts'
import { BeaconEventSource, testnetFeeRecipient } from '../../src/node/testnet/index.ts'
import { toHex } from '../../src/proto/index.ts'
import { Anvil } from '../fixtures/anvil.ts'
import { startBeaconSource, startCommitteeNet } from '../fixtures/committee-net.ts'
import { until } from '../fixtures/network.ts'
import type { SlotEnvironment } from '../../src/beacon/index.ts'
import type { SealedEvent } from '../../src/node/index.ts'
import type { MemberNode } from '../../src/node/index.ts'
import type { CandidateValue } from '../../src/proto/index.ts'
import type { CommitteeNet } from '../fixtures/committee-net.ts'

async function refusals (node: MemberNode, code: string): Promise<number> {
  return (await node.metrics.payloadAttributesRefusals.get()).values.filter(v => v.labels.code === code).reduce((n, v) => n + v.value, 0)
}

describe('multinode: slot environments from the beacon API', function () {
  this.timeout(180_000)
  let anvil: Anvil
  let otherChain: Anvil
  let liar: BeaconEventSource
  let silent: BeaconEventSource
  let net: CommitteeNet
  const announced = new Map<string, SlotEnvironment>()
  const sealed = new Map<number, CandidateValue>()

  before(async () => {
    anvil = await Anvil.start({ blockTime: 1 })
    otherChain = await Anvil.start({ noMining: true, timestamp: Math.floor(Date.now() / 1000) })
    liar = await startBeaconSource(anvil, { withdrawalsPerSlot: 1, feeRecipientOf: () => new Uint8Array(20).fill(0xee) })
    // same slot clock, but it follows another chain: no slot it announces has a parent this chain has
    silent = await BeaconEventSource.start({ rpc: new ChainRpc(otherChain.url), genesisTime: liar.clock.genesisTime, secondsPerSlot: 1, rules: { chainId: 31337, forks: [{ name: 'osaka', timestamp: 0 }] } })
    net = await startCommitteeNet(anvil, 5, {
      withdrawalsPerSlot: 1,
      beaconApi: { 3: liar.url, 4: silent.url },
      tuning: { payloadAttributesWaitMs: 500 }
    })
    net.beacon.addEventListener('environment', evt => {
      const e = (evt as CustomEvent<SlotEnvironment>).detail
      announced.set(`${e.slot}:${e.parentBlockHash}`, e)
    })
    net.nodes[0].addEventListener('sealed', evt => {
      const c = (evt as CustomEvent<SealedEvent>).detail.candidate
      sealed.set(c.slot, c)
    })
  })

  after(async () => {
    await net?.stop()
    await liar?.stop()
    await silent?.stop()
    await otherChain?.stop()
    await anvil?.stop()
  })

  it('candidates carry the announced environment and the agreeing members\' signatures only; the others refuse with their reasons', async () => {
    await until(() => sealed.size >= 4, 90_000, 'four sealed candidates')
    await until(async () => await refusals(net.nodes[0], 'payload-attributes-mismatch') > 0, 30_000, 'a slot member 3 led refused by member 0')
    const honest = net.keys.slice(0, 3).map(k => toHex(k.bls.publicKey)).sort()
    const checked = [...sealed.values()].filter(c => announced.has(`${c.slot}:0x${toHex(c.header.parentHash)}`))
    expect(checked.length, 'candidates whose announcement this test saw').to.be.at.least(3)
    for (const c of checked) {
      const env = announced.get(`${c.slot}:0x${toHex(c.header.parentHash)}`) as SlotEnvironment
      // member 3 opens its slots with its own beacon node's fee recipient: refused, never sealed as it
      // opened them (the fee recipient below is the announced one); member 4 never hears of its slots,
      // so the next member by rank opens them (takeover) and they seal. Here a slot's payload attributes
      // come late in its building window (the source follows anvil's blocks), after every rank's turn
      // on the slot clock, so ranks count their turns from the arrival; a member 3 OpenSlot slower than
      // that can still lose to an honest takeover, and that slot then seals as announced.
      expect(c.committeeRoster.map(toHex).sort(), `slot ${c.slot} signers`).to.deep.equal(honest)
      expect(toHex(c.header.feeRecipient)).to.equal(toHex(testnetFeeRecipient(env.proposerIndex)))
      expect(c.header.timestamp).to.equal(net.beacon.clock.timestampOf(c.slot))
      expect(c.header.prevRandao).to.deep.equal(env.prevRandao)
      expect(c.header.parentBeaconBlockRoot).to.deep.equal(env.parentBeaconBlockRoot)
      expect(c.withdrawals).to.deep.equal(env.withdrawals)
      expect(Number(c.header.number)).to.equal(env.parentBlockNumber + 1)
    }
    expect(await refusals(net.nodes[3], 'payload-attributes-mismatch'), 'member 3: another fee recipient').to.be.greaterThan(0)
    expect(await refusals(net.nodes[4], 'payload-attributes-missing'), 'member 4: no announcement').to.be.greaterThan(0)
    expect(await refusals(net.nodes[1], 'payload-attributes-missing'), 'honest members have every announcement').to.equal(0)
  })
})
