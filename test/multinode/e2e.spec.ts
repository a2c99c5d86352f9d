/**
 * End-to-end: members as separate `atelier node` processes on a real anvil, with the testnet's
 * co-builder, load generator and follower. Each scenario runs its own testnet.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js'
import { expect } from 'aegir/chai'
import { verify } from '../../src/config/index.ts'
import { TestTdProvider } from '../../src/enclave/index.ts'
import { leaderFor } from '../../src/machine/index.ts'
import { NodeStore, Testnet } from '../../src/node/index.ts'
import { MemberEvidenceSource, Plane, policyFromConfig, Reader } from '../../src/p2p/index.ts'
import { encodeMessage, equalBytes, toHex } from '../../src/proto/index.ts'
import { scrape } from '../fixtures/metrics.ts'
import { until } from '../fixtures/network.ts'
import type { TestnetOptions } from '../../src/node/index.ts'
import type { CandidateValue } from '../../src/proto/index.ts'

const hex = (b: Uint8Array): string => toHex(b)

async function withTestnet (options: TestnetOptions, fn: (net: Testnet) => Promise<void>): Promise<Map<number, Map<number, string>>> {
  const out = await mkdtemp(join(tmpdir(), 'atelier-e2e-'))
  const net = await Testnet.start({ blockTime: 1, txsPerSlot: 6, ...options, out })
  try {
    await fn(net)
  } finally {
    await net.stop()
  }
  // with every process gone, read each member's store: slot → encoded candidate
  const stores = new Map<number, Map<number, string>>()
  try {
    for (let i = 0; i < net.n; i++) {
      const store = await NodeStore.open(join(out, `member-${i}`, 'data', 'db'))
      const m = new Map<number, string>()
      for (const r of await store.candidateRange(0, Number.MAX_SAFE_INTEGER, 100_000)) { m.set(r.slot, hex(r.bytes)) }
      await store.close()
      stores.set(i, m)
    }
  } finally {
    await rm(out, { recursive: true, force: true })
  }
  return stores
}

/** No slot has two different candidates anywhere (any member's store, the follower). */
function expectOneCandidatePerSlot (stores: Map<number, Map<number, string>>, follower: Map<number, CandidateValue>): void {
  const bySlot = new Map<number, Set<string>>()
  for (const m of stores.values()) { for (const [slot, bytes] of m) { bySlot.set(slot, (bySlot.get(slot) ?? new Set()).add(bytes)) } }
  for (const [slot, c] of follower) { bySlot.set(slot, (bySlot.get(slot) ?? new Set()).add(hex(encodeMessage('Candidate', c)))) }
  for (const [slot, set] of bySlot) { expect(set.size, `slot ${slot}`).to.equal(1) }
}

describe('e2e: the committee as processes', function () {
  this.timeout(300_000)

  it('happy path: 4 members seal ≥ 10 consecutive slots, identical everywhere, every valid transaction exactly once', async () => {
    let submitted = new Map<string, Uint8Array>()
    let bundled = new Map<string, Uint8Array>()
    let follower = new Map<number, CandidateValue>()
    const stores = await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(12)
      // stop the load, then let the pool drain into a few more slots
      const load = net.load
      expect(load).to.not.equal(undefined)
      ;(net as unknown as { load?: unknown }).load = undefined
      const seen = net.candidates.size
      await net.waitForCandidates(seen + 3)
      submitted = load?.submitted ?? submitted
      bundled = load?.bundled ?? bundled
      follower = new Map(net.candidates)
      for (const c of follower.values()) { expect(verify(c, net.config)).to.equal(true) }
      expect(net.hintsAccepted).to.be.greaterThan(0)
    })
    const slots = [...follower.keys()].sort((a, b) => a - b)
    let run = 1
    let best = 1
    for (let i = 1; i < slots.length; i++) {
      run = slots[i] === slots[i - 1] + 1 ? run + 1 : 1
      best = Math.max(best, run)
    }
    expect(best, 'consecutive sealed slots').to.be.at.least(10)
    expectOneCandidatePerSlot(stores, follower)
    // every member holds the same bytes for every slot the follower verified
    for (const slot of slots) {
      const copies = [...stores.values()].map(m => m.get(slot)).filter(b => b != null)
      expect(copies.length, `members holding slot ${slot}`).to.equal(4)
    }
    const counts = new Map<string, number>()
    for (const c of follower.values()) {
      for (const raw of c.body) {
        const h = `0x${hex(keccak256(raw))}`
        counts.set(h, (counts.get(h) ?? 0) + 1)
      }
    }
    expect(submitted.size).to.be.greaterThan(20)
    for (const h of submitted.keys()) { expect(counts.get(h), `pool transaction ${h}`).to.equal(1) }
    for (const h of bundled.keys()) { expect(counts.get(h) ?? 0, `bundle transaction ${h}`).to.be.at.most(1) }
  })

  it('leader crash: SIGKILL the next leader; the committee keeps sealing and no slot gets two candidates', async () => {
    let follower = new Map<number, CandidateValue>()
    let killedAt = 0
    let victim = -1
    const stores = await withTestnet({ members: 4, load: true }, async net => {
      await net.waitForCandidates(3)
      const head = Number(BigInt(await net.anvil.rpc<string>('eth_blockNumber')))
      victim = leaderFor(head + 1, 4)
      // mid-slot: its slot has just opened or is about to
      await new Promise(resolve => setTimeout(resolve, 300))
      net.killMember(victim)
      killedAt = head + 1
      const before = net.candidates.size
      await net.waitForCandidates(before + 6)
      follower = new Map(net.candidates)
    })
    expectOneCandidatePerSlot(stores, follower)
    const after = [...follower.keys()].filter(s => s > killedAt + 1)
    expect(after.length).to.be.at.least(4)
    // slots led by the dead member either sealed through takeover or were skipped; later ones sealed
    const slots = [...follower.keys()]
    expect(slots.some(s => s > killedAt && leaderFor(s, 4) === victim) || slots.some(s => s > killedAt)).to.equal(true)
  })

  it('byzantine minority (1 of 4): sealed by the honest majority; the divergent key never signs; divergence counted', async () => {
    let follower = new Map<number, CandidateValue>()
    let divergence = 0
    const bad: { key?: Uint8Array } = {}
    const stores = await withTestnet({ members: 4, faults: { 3: 'wrong-coinbase' } }, async net => {
      await net.waitForCandidates(8)
      follower = new Map(net.candidates)
      bad.key = net.config.committee[3].blsPublicKey
      for (const i of [0, 1, 2]) { divergence += await scrape(net.members[i].ready?.metricsPort, 'simulation_divergence_total') }
    })
    expect(follower.size).to.be.at.least(8)
    const isBad = (k: Uint8Array): boolean => bad.key != null && equalBytes(k, bad.key)
    for (const c of follower.values()) {
      const signedByBad = c.committeeRoster.filter(isBad).length
      expect(signedByBad, `slot ${c.slot} signed by the divergent member`).to.equal(0)
      expect(c.committeeRoster.length).to.equal(3)
    }
    expect(divergence).to.be.greaterThan(0)
    expectOneCandidatePerSlot(stores, follower)
  })

  it('byzantine minority (2 of 7): sealed by the honest majority only', async () => {
    let follower = new Map<number, CandidateValue>()
    let badKeys: Uint8Array[] = []
    await withTestnet({ members: 7, blockTime: 2, txsPerSlot: 4, faults: { 1: 'wrong-coinbase', 5: 'wrong-coinbase' } }, async net => {
      await net.waitForCandidates(5, 180_000)
      follower = new Map(net.candidates)
      badKeys = [1, 5].map(i => net.config.committee[i].blsPublicKey)
      expect(await scrape(net.members[0].ready?.metricsPort, 'simulation_divergence_total')).to.be.greaterThan(0)
    })
    for (const c of follower.values()) {
      expect(c.committeeRoster.length).to.be.at.least(4)
      for (const bad of badKeys) { expect(c.committeeRoster.some(k => equalBytes(k, bad))).to.equal(false) }
    }
  })

  it('restart: a stopped member catches up through sync and signs on, never twice', async () => {
    let restartedHolds: number[] = []
    let sealedWhileDown: number[] = []
    let signedAfter = 0
    const stores = await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(3)
      await net.stopMember(2)
      const downFrom = Math.max(...net.candidates.keys())
      await net.waitForCandidates(net.candidates.size + 4)
      sealedWhileDown = [...net.candidates.keys()].filter(s => s > downFrom)
      await net.startMember(2)
      const key = net.config.committee[2].blsPublicKey
      const signedBy = (c: CandidateValue): boolean => c.committeeRoster.some(k => equalBytes(k, key))
      const lastDown = Math.max(...sealedWhileDown)
      await until(() => [...net.candidates.values()].some(c => c.slot > lastDown && signedBy(c)), 60_000, 'the restarted member to sign again')
      signedAfter = [...net.candidates.values()].filter(signedBy).length
      expect(await readFile(net.members[2].logPath, 'utf8')).to.not.match(/double-sign-refused/)
    })
    restartedHolds = [...(stores.get(2)?.keys() ?? [])]
    for (const s of sealedWhileDown) { expect(restartedHolds, `slot ${s} caught up`).to.include(s) }
    expect(signedAfter).to.be.greaterThan(0)
  })

  it('intruders (wrong MR_TD, expired operator ticket) are never admitted; the run is unaffected', async () => {
    await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(2)
      const intruder = async (mrTd: Uint8Array, ticketTtl: number): Promise<Plane> => {
        const key = await generateKeyPair('Ed25519')
        const ticket = await net.operatorTicket(peerIdFromPrivateKey(key).toString(), ticketTtl)
        return Plane.create({
          name: 'intruder',
          privateKey: key,
          listen: [],
          policy: policyFromConfig(net.config, ['member']),
          evidence: new MemberEvidenceSource(new TestTdProvider(net.testTd, { mrTd }), ticket),
          topics: []
        })
      }
      const wrongMrtd = await intruder(new Uint8Array(48).fill(0xee), 3600)
      const expired = await intruder(net.config.mrtdAcl[0], -60)
      try {
        for (const p of [wrongMrtd, expired]) {
          const err = await p.connect(net.members[0].ready?.private[0] as string).then(() => undefined, (e: Error) => e)
          expect(err).to.be.instanceOf(Error)
          expect(p.node.getConnections().length).to.equal(0)
        }
        const port = net.members[0].ready?.metricsPort
        await until(async () => await scrape(port, 'atelier_admission_rejections_total', { plane: 'private', reason: 'mrtd-not-allowed' }) >= 1 &&
          await scrape(port, 'atelier_admission_rejections_total', { plane: 'private', reason: 'ticket-expired' }) >= 1, 10_000, 'both rejections counted')
        // libp2p's own metrics ride along, per plane
        expect(await scrape(port, 'libp2p_data_transfer_bytes_total', { plane: 'private' })).to.be.greaterThan(0)
        const before = net.candidates.size
        await net.waitForCandidates(before + 3)
      } finally {
        await wrongMrtd.stop()
        await expired.stop()
      }
    })
  })

  it('late follower: started after 5 sealed slots, it yields all of them', async () => {
    await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(5)
      const seen = [...net.candidates.keys()].sort((a, b) => a - b)
      const { key, jwt } = await net.clientKey('reader')
      const late = await Reader.start({ config: net.config, ticket: jwt, privateKey: key, bootstrap: net.publicAddrs() })
      try {
        const got: number[] = []
        for await (const c of late) {
          got.push(c.slot)
          if (got.length >= seen.length) { break }
        }
        expect(got).to.deep.equal(seen)
      } finally {
        await late.stop()
      }
    })
  })

  it('key rotation: a new BLS key and roster (new ATELIER_ROOT: new topics) keeps sealing; old candidates verify only under the old config', async () => {
    await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(3)
      const old = [...net.candidates.values()]
      const { before, after } = await net.rotateKey(1)
      expect(after.root().toString()).to.not.equal(before.root().toString())
      expect(after.committee[1].blsPublicKey).to.not.deep.equal(before.committee[1].blsPublicKey)
      await net.waitForCandidates(3, 120_000)
      const fresh = [...net.candidates.values()].filter(c => c.slot > Math.max(...old.map(o => o.slot)))
      expect(fresh.length).to.be.at.least(1)
      for (const c of old) {
        expect(verify(c, before)).to.equal(true)
        expect(verify(c, after)).to.equal(false)
      }
      for (const c of fresh) {
        expect(verify(c, after)).to.equal(true)
        expect(verify(c, before)).to.equal(false)
      }
    })
  })
})
