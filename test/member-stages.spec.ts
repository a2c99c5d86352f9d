/**
 * The member's stages on their own, with a real machine, a real LevelDB store and (for catch-up) two
 * attested planes over loopback: the reorder buffer, the command log's replay, takeover timing,
 * per-slot retirement and the catch-up cursor.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'aegir/chai'
import { SlotClock } from '../src/beacon/index.ts'
import { makeCommon } from '../src/core/index.ts'
import { AtelierMachine, takeoverRank } from '../src/machine/index.ts'
import {
  CatchUp, CommandBus, Duties, HintBook, InputPool, MAX_BUFFERED_PER_SLOT, NodeMetrics, NodeStore, silentLogger, SlotTable
} from '../src/node/index.ts'
import { Workload } from '../src/node/workload/workload.ts'
import { serveSync } from '../src/p2p/index.ts'
import { blsSign, encodeMessage } from '../src/proto/index.ts'
import { seal, unsignedCandidate } from './fixtures/committee.ts'
import { GOOD_MRTD, startPeer, testCommittee, until } from './fixtures/network.ts'
import { memorySimulator, openSlot as unsignedOpenSlot, RULES, simOutput } from './fixtures/slots.ts'
import type { TestCommittee } from './fixtures/network.ts'
import type { Config } from '../src/config/index.ts'
import type { Command } from '../src/machine/index.ts'
import type { CandidateRangeSource, Plane } from '../src/p2p/index.ts'
import type { CandidateValue } from '../src/proto/index.ts'
import type { SlotMessageKind } from '../src/topics/index.ts'

const keys = Array.from({ length: 4 }, (_, i) => new Uint8Array(32).fill(i + 1))

interface Stages {
  machine: AtelierMachine
  table: SlotTable
  bus: CommandBus
  duties: Duties
  pool: InputPool
  metrics: NodeMetrics
  store: NodeStore
  published: Array<{ kind: SlotMessageKind, slot: number }>
}

describe('member stages', function () {
  this.timeout(60_000)
  let committee: TestCommittee
  let config: Config
  let dir: string
  const open: NodeStore[] = []

  before(async () => {
    committee = await testCommittee(4)
    config = committee.config
  })

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-stages-'))
  })

  afterEach(async () => {
    for (const s of open.splice(0)) { await s.close().catch(() => {}) }
    await rm(dir, { recursive: true, force: true })
  })

  const members = (): TestCommittee['members'] => committee.members
  /** an OpenSlot for `slot` signed by member 0, its leader in these tests */
  const openSlot = (slot: number, unsealed: Uint8Array[]): ReturnType<typeof unsignedOpenSlot> =>
    unsignedOpenSlot(slot, unsealed, {}, { key: members()[0], domainId: config.root().bytes })
  const transfers = (slot: number): Uint8Array[] => {
    const w = new Workload(makeCommon(RULES), keys)
    return [w.ethTransfer(0, w.addresses[1], BigInt(slot)), w.ethTransfer(1, w.addresses[2], 7n)]
  }

  /** The stages of member `index`, wired as member.ts wires them (publishing recorded, not gossiped). */
  async function stages (index: number, tuning: Partial<Config['tuning']> = {}, storeDir = join(dir, `member-${index}`)): Promise<Stages> {
    const store = await NodeStore.open(storeDir)
    open.push(store)
    const machine = new AtelierMachine({ roster: config.roster, domainId: config.root().bytes, simulate: memorySimulator(new Workload(makeCommon(RULES), keys)) })
    const table = new SlotTable()
    const pool = new InputPool()
    const metrics = new NodeMetrics()
    const published: Stages['published'] = []
    const cfg = { ...config, committeeSize: config.committeeSize, tuning: { ...config.tuning, ...tuning } } as unknown as Config
    const hints = new HintBook({ table, domainId: config.root().bytes, nextSlot: () => 0, isOpen: s => machine.slotSpec(s) != null, relay: async () => {}, predecode: () => {}, blobsMissing: txs => pool.blobsMissing(txs), metrics, log: silentLogger })
    const bus: CommandBus = new CommandBus({
      machine,
      table,
      store,
      publish: async (kind, value) => { published.push({ kind, slot: value.slot }) },
      after: async (kind, slot) => {
        if (kind === 'OpenSlot') {
          const ctx = table.at(slot)
          if (ctx != null) { ctx.openedAt = Date.now() }
          duties.scheduleTakeover(slot)
        }
        if (kind === 'SubmitSimulation') { duties.maybeSeal(slot) }
        if (kind === 'SealCandidate') {
          const c = machine.query({ type: 'CandidateFor', slot })
          const ctx = table.get(slot)
          if (c != null && ctx != null) { ctx.keptRoot = new Uint8Array(32).fill(1) }
        }
      },
      log: silentLogger
    })
    const duties: Duties = new Duties({ index, config: cfg, machine, bus, table, pool, hints, metrics, log: silentLogger, clock: () => new SlotClock(0, 12), signOpen: async (_slot, root) => blsSign(members()[index].secretKey, root), stopped: () => false })
    return { machine, table, bus, duties, pool, metrics, store, published }
  }

  /** The honest output hash of `slot`'s inputs (what every honest member signs). */
  async function honestHash (machine: AtelierMachine, slot: number): Promise<Uint8Array> {
    return machine.candidateOf(slot, await machine.simulate(slot)).outputHash
  }

  describe('command bus', () => {
    it('holds commands that arrive before their OpenSlot and applies them, in order, once it does', async () => {
      const s = await stages(1)
      const slot = 8
      const reference = await stages(2)
      await reference.bus.applyRemote('OpenSlot', openSlot(slot, transfers(slot)))
      const hash = await honestHash(reference.machine, slot)
      // gossip delivered the leader's seal and the simulations before the slot's OpenSlot
      await s.bus.applyRemote('SealCandidate', { slot, outputHash: hash, signers: [0, 1, 2] })
      for (const i of [0, 1, 2]) { await s.bus.applyRemote('SubmitSimulation', simOutput(slot, i, members()[i], hash)) }
      expect(s.table.get(slot)?.buffered.map(c => c.type)).to.deep.equal(['SealCandidate', 'SubmitSimulation', 'SubmitSimulation', 'SubmitSimulation'])
      expect(s.machine.query({ type: 'OpenSlots' })).to.deep.equal([])
      await s.bus.applyRemote('OpenSlot', openSlot(slot, transfers(slot)))
      expect(s.machine.query({ type: 'SimulationAgreement', slot })?.members).to.deep.equal([0, 1, 2])
      expect(s.machine.query({ type: 'CandidateFor', slot })?.committeeRoster).to.have.length(3)
      expect(s.table.get(slot)?.buffered).to.deep.equal([])
    })

    it('bounds the commands held per slot', async () => {
      const s = await stages(1)
      const early: Command = { type: 'SubmitSimulation', value: simOutput(9, 0, members()[0], new Uint8Array(32)) }
      for (let i = 0; i < MAX_BUFFERED_PER_SLOT + 40; i++) { await s.bus.applyRemote(early.type as SlotMessageKind, early.value as never) }
      expect(s.table.get(9)?.buffered).to.have.length(MAX_BUFFERED_PER_SLOT)
    })

    it('replays the command log after a restart: the same slots open with the same agreement', async () => {
      const storeDir = join(dir, 'restart')
      const before = await stages(1, {}, storeDir)
      const slot = 12
      await before.bus.applyRemote('OpenSlot', openSlot(slot, transfers(slot)))
      const hash = await honestHash(before.machine, slot)
      for (const i of [0, 2]) { await before.bus.applyRemote('SubmitSimulation', simOutput(slot, i, members()[i], hash)) }
      await before.bus.settled()
      await before.store.close()
      open.splice(open.indexOf(before.store), 1)

      const after = await stages(1, {}, storeDir)
      expect(await after.bus.replay(() => {})).to.equal(3)
      expect(after.machine.query({ type: 'OpenSlots' })).to.deep.equal([slot])
      expect(after.machine.query({ type: 'SimulationAgreement', slot })?.tallies[0].members).to.deep.equal([0, 2])
      // replay did not log the commands a second time
      await after.bus.settled()
      expect(await after.store.commands()).to.have.length(3)
    })
  })

  describe('duties', () => {
    it('a member takes over only after rank × leaderTimeoutMs, and seals with the agreed signers', async () => {
      const slot = 8 // led by member 0, which is not running here
      const s = await stages(2, { leaderTimeoutMs: 150 })
      expect(takeoverRank(slot, 4, 2)).to.equal(2)
      const opened = performance.now()
      await s.bus.applyRemote('OpenSlot', openSlot(slot, transfers(slot)))
      const hash = await honestHash(s.machine, slot)
      for (const i of [0, 1, 2]) { await s.bus.applyRemote('SubmitSimulation', simOutput(slot, i, members()[i], hash)) }
      expect(s.published, 'the leader seals, not rank 2').to.deep.equal([])
      await until(() => s.published.length > 0, 10_000, 'the takeover seal')
      expect(performance.now() - opened, 'not before its turn').to.be.at.least(2 * 150 - 5)
      expect(s.published).to.deep.equal([{ kind: 'SealCandidate', slot }])
      expect(s.machine.query({ type: 'CandidateFor', slot })?.committeeRoster).to.have.length(3)
    })

    it('the leader seals at once when a strict majority it belongs to agrees (not before)', async () => {
      const slot = 8
      const leader = await stages(0, { leaderTimeoutMs: 100 })
      await leader.bus.applyRemote('OpenSlot', openSlot(slot, transfers(slot)))
      const hash = await honestHash(leader.machine, slot)
      await leader.bus.applyRemote('SubmitSimulation', simOutput(slot, 1, members()[1], hash))
      await leader.bus.applyRemote('SubmitSimulation', simOutput(slot, 2, members()[2], hash))
      expect(leader.published, 'no majority with the leader in it yet').to.deep.equal([])
      await leader.bus.applyRemote('SubmitSimulation', simOutput(slot, 0, members()[0], hash))
      await until(() => leader.published.length > 0, 10_000, 'the leader\'s seal')
      expect(leader.published).to.deep.equal([{ kind: 'SealCandidate', slot }])
      expect(leader.machine.query({ type: 'CandidateFor', slot })?.committeeRoster).to.have.length(3)
    })

    it('retires slots markDoneDepth behind the slot clock: missed ones counted, their transactions back in the pool, timers cleared', async () => {
      const s = await stages(2, { markDoneDepth: 4, leaderTimeoutMs: 100 })
      for (const slot of [20, 21, 22]) { await s.bus.applyRemote('OpenSlot', openSlot(slot, transfers(slot))) }
      let fired = false
      s.table.get(20)?.after(30, () => { fired = true })
      expect(s.pool.size).to.equal(0)
      await s.duties.retire(25) // slot clock at 25, depth 4: floor 21, slot 20 is retired
      expect(s.machine.query({ type: 'OpenSlots' })).to.deep.equal([21, 22])
      expect(s.table.get(20)).to.equal(undefined)
      expect(s.table.at(20), 'a retired slot gets no new context').to.equal(undefined)
      expect(s.pool.size, 'slot 20\'s transactions are back').to.equal(transfers(20).length)
      const missed = await s.metrics.registry.getSingleMetricAsString('atelier_slots_missed_total')
      expect(missed).to.match(/ 1$/m)
      expect(await s.store.commands().then(c => c.map(x => x.slot))).to.not.include(20)
      await new Promise(resolve => setTimeout(resolve, 60)) // past the retired timer's moment
      expect(fired).to.equal(false)
    })

    it('the integrator\'s markDone hook retires like the head does (context and logged commands gone)', async () => {
      const s = await stages(1)
      await s.bus.applyRemote('OpenSlot', openSlot(30, transfers(30)))
      await s.bus.settled()
      expect(await s.duties.retireSlot(30)).to.deep.equal({ ok: true })
      expect(s.table.get(30)).to.equal(undefined)
      expect(s.machine.query({ type: 'OpenSlots' })).to.deep.equal([])
      expect(await s.store.commands()).to.deep.equal([])
    })
  })

  describe('catch-up', () => {
    const planes: Plane[] = []
    afterEach(async () => {
      for (const p of planes.splice(0)) { await p.stop().catch(() => {}) }
    })

    /** A member plane serving sync from `candidates`, and a member plane connected to it. */
    async function pair (candidates: CandidateValue[]): Promise<{ server: Plane, client: Plane }> {
      const bySlot = new Map(candidates.map(c => [c.slot, encodeMessage('Candidate', c)]))
      const source: CandidateRangeSource = {
        candidateRange: async (from, to, limit) => [...bySlot].filter(([s]) => s >= from && s <= to).sort((a, b) => a[0] - b[0]).slice(0, limit).map(([slot, bytes]) => ({ slot, bytes }))
      }
      const server = await startPeer(committee, { accept: ['member'], topics: [], as: { member: GOOD_MRTD } })
      planes.push(server)
      await serveSync(server, source)
      const client = await startPeer(committee, { accept: ['member'], topics: [], as: { member: GOOD_MRTD } })
      planes.push(client)
      await client.connect(server.addresses()[0])
      await until(() => client.registry.roleOf(server.peerId) === 'member', 10_000, 'admission')
      return { server, client }
    }

    const sealed = (slot: number): CandidateValue => seal(unsignedCandidate(slot), members().slice(0, 3), config.root().bytes)

    it('fetches every page after the cursor, skips what fails verify, and moves the cursor only after a complete walk', async () => {
      const slots = Array.from({ length: 150 }, (_, i) => i)
      const forged = { ...sealed(77), slot: 78 } // signed over slot 77's root
      const { server, client } = await pair([...slots.filter(s => s !== 78).map(sealed), forged])
      const adopted: number[] = []
      const held = new Set<number>([200]) // a live candidate arrived before the catch-up ran
      const catchUp = new CatchUp({
        plane: client,
        config,
        heldThrough: 9,
        latestHeld: async () => Math.max(...held),
        adopt: async c => { adopted.push(c.slot); held.add(c.slot); return true },
        stopped: () => false,
        log: silentLogger
      })
      expect(await catchUp.from(server.peerId)).to.equal(139)
      expect(adopted).to.deep.equal(slots.filter(s => s >= 10 && s !== 78))
      expect(catchUp.heldThrough).to.equal(200)
    })

    it('repairs a gap: a candidate past the cursor walks a connected member\'s store, at most once per REPAIR_MS', async () => {
      const { server, client } = await pair([4, 5, 6, 7].map(sealed))
      const adopted: number[] = []
      const held = new Set<number>([4, 5, 7]) // slot 6 missed while joining the mesh
      let walks = 0
      const catchUp = new CatchUp({
        plane: client,
        config,
        heldThrough: 5,
        latestHeld: async () => Math.max(...held),
        adopt: async c => { if (held.has(c.slot)) { return false } adopted.push(c.slot); held.add(c.slot); return true },
        members: () => { walks++; return [server.peerId] },
        stopped: () => false,
        log: silentLogger
      })
      catchUp.repair(6) // the next slot: nothing can hide below it
      expect(walks).to.equal(0)
      catchUp.repair(7)
      await until(() => adopted.length > 0 && catchUp.heldThrough === 7, 10_000, 'the missed slot adopted')
      expect(adopted).to.deep.equal([6])
      expect(walks).to.equal(1)
      catchUp.repair(9) // within REPAIR_MS of the last walk: none
      expect(walks).to.equal(1)
    })

    it('a walk that leaves a slot below the newest unheld asks a second member from that slot on', async () => {
      // member A holds back slot 12 (behind, or worse); member B has it
      const { server: a, client } = await pair([10, 11, 13, 14].map(sealed))
      const b = await startPeer(committee, { accept: ['member'], topics: [], as: { member: GOOD_MRTD } })
      planes.push(b)
      const all = new Map([10, 11, 12, 13, 14].map(s => [s, encodeMessage('Candidate', sealed(s))]))
      await serveSync(b, { candidateRange: async (from, to, limit) => [...all].filter(([s]) => s >= from && s <= to).slice(0, limit).map(([slot, bytes]) => ({ slot, bytes })) })
      await client.connect(b.addresses()[0])
      await until(() => client.registry.roleOf(b.peerId) === 'member', 10_000, 'admission')
      const held = new Set<number>()
      const catchUp = new CatchUp({
        plane: client,
        config,
        heldThrough: 9,
        latestHeld: async () => Math.max(-1, ...held),
        adopt: async c => { if (held.has(c.slot)) { return false } held.add(c.slot); return true },
        members: () => [a.peerId, b.peerId],
        held: async (from, to) => [...held].filter(s => s >= from && s <= to),
        stopped: () => false,
        log: silentLogger
      })
      expect(await catchUp.from(a.peerId)).to.equal(5)
      expect([...held].sort((x, y) => x - y)).to.deep.equal([10, 11, 12, 13, 14])
      expect(catchUp.heldThrough).to.equal(14)
    })

    it('an interrupted walk leaves the cursor where it was', async () => {
      const { server, client } = await pair(Array.from({ length: 80 }, (_, i) => sealed(i)))
      const adopted: number[] = []
      const catchUp = new CatchUp({
        plane: client,
        config,
        heldThrough: -1,
        latestHeld: async () => adopted.at(-1),
        // the serving member goes away after the first page
        adopt: async c => { adopted.push(c.slot); if (c.slot === 63) { await server.stop() } return true },
        stopped: () => false,
        log: silentLogger
      })
      await catchUp.from(server.peerId)
      expect(adopted).to.deep.equal(Array.from({ length: 64 }, (_, i) => i))
      expect(catchUp.heldThrough).to.equal(-1)
    })
  })
})
