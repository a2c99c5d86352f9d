/**
 * The slot pipeline's stages, built in dependency order and each handed only what it needs, and
 * `react`: what follows an applied command, the one place the stages meet (OpenSlot schedules the
 * takeover and, once the inputs are complete, the simulation; a recorded simulation may let the
 * leader seal; an applied SealCandidate keeps, publishes and stores the candidate).
 *
 * Owns buildStages and MemberStages.
 */
import { CatchUp } from './catch-up.ts'
import { CommandBus } from './command-bus.ts'
import { Duties } from './duties.ts'
import { HintBook } from './hint-book.ts'
import { SealedCandidates } from './sealed-candidates.ts'
import { SimulateAndSign } from './simulator.ts'
import type { SealedEvent } from './sealed-candidates.ts'
import type { SimulateAndSignOptions } from './simulator.ts'
import type { SlotTable } from './slot-table.ts'
import type { SlotClock } from '../../beacon/index.ts'
import type { Config } from '../../config/index.ts'
import type { AtelierMachine, SafeSigner } from '../../machine/index.ts'
import type { Plane } from '../../p2p/index.ts'
import type { HintBundleValue, MessageValues, OpenSlotFieldsValue } from '../../proto/index.ts'
import type { SlotMessageKind } from '../../topics/index.ts'
import type { InputPool } from '../input-pool.ts'
import type { Logger } from '../log.ts'
import type { NodeMetrics } from '../metrics.ts'
import type { NodeStore } from '../store.ts'

export interface StagesOptions {
  index: number
  config: Config
  machine: AtelierMachine
  table: SlotTable
  store: NodeStore
  pool: InputPool
  signer: SafeSigner
  /** signs OpenSlots: at most one per slot ever, on a record of its own */
  openSigner: SafeSigner
  /** test-only: an equivocating opener (a faulty image) */
  equivocate?(fields: OpenSlotFieldsValue): Promise<void>
  clock(): SlotClock
  /** every candidate up to this slot was held at start (catch-up starts after it) */
  heldThrough: number
  publicPlane: Plane
  metrics: NodeMetrics
  log: Logger
  /** the leader's choices for the blocks it builds (the rest of the environment is the beacon node's) */
  leader: { extraData?: Uint8Array, gasLimitTarget?: bigint }
  /** the next slot on the slot clock */
  nextSlot(): number
  /** the OpenSlot environment check (environment-check.ts) */
  checkEnvironment: SimulateAndSignOptions['checkEnvironment']
  /** gossips a slot command on the private plane */
  publishCommand(kind: SlotMessageKind, value: MessageValues[SlotMessageKind]): Promise<void>
  relayHint(hint: HintBundleValue): Promise<void>
  publishCandidate(bytes: Uint8Array): Promise<void>
  predecode(txs: Uint8Array[]): void
  emit(event: SealedEvent): void
  stopped(): boolean
  /** a slot was retired without a candidate */
  onMissed?(slot: number): void
  /** since when this member has been connected to the committee without a break (Duties) */
  listeningSince?(): number | undefined
}

export interface MemberStages {
  hints: HintBook
  candidates: SealedCandidates
  bus: CommandBus
  duties: Duties
  simulator: SimulateAndSign
  catchUp: CatchUp
}

export function buildStages (o: StagesOptions): MemberStages {
  const { config, machine, table, pool, metrics, log } = o
  const stages = {} as MemberStages
  stages.hints = new HintBook({
    table,
    domainId: config.root().bytes,
    nextSlot: o.nextSlot,
    isOpen: slot => machine.slotSpec(slot) != null,
    relay: o.relayHint,
    predecode: o.predecode,
    blobsMissing: txs => pool.blobsMissing(txs),
    metrics,
    log
  })
  stages.candidates = new SealedCandidates({ machine, table, store: o.store, pool, domainId: config.root().bytes, publish: o.publishCandidate, metrics, log, emit: o.emit })
  stages.bus = new CommandBus({ machine, table, store: o.store, publish: o.publishCommand, after: async (kind, slot, value) => react(stages, o, kind, slot, value), log })
  stages.duties = new Duties({ index: o.index, config, machine, bus: stages.bus, table, pool, hints: stages.hints, metrics, log, ...o.leader, clock: o.clock, signOpen: async (slot, root) => o.openSigner.sign(slot, root), equivocate: o.equivocate, stopped: o.stopped, onMissed: o.onMissed, listeningSince: o.listeningSince })
  stages.simulator = new SimulateAndSign({
    index: o.index,
    machine,
    signer: o.signer,
    bus: stages.bus,
    table,
    log,
    checkEnvironment: o.checkEnvironment,
    onParentStateRefused: code => { metrics.parentStateRefusals.inc({ code }) },
    onEnvironmentRefused: code => { metrics.payloadAttributesRefusals.inc({ code }) }
  })
  stages.catchUp = new CatchUp({
    plane: o.publicPlane,
    config,
    heldThrough: o.heldThrough,
    latestHeld: async () => o.store.latestCandidateSlot(),
    adopt: async c => stages.candidates.adopt(c),
    members: () => o.publicPlane.node.getPeers().filter(p => o.publicPlane.registry.roleOf(p) === 'member'),
    held: async (from, to) => o.store.candidateSlots(from, to),
    stopped: o.stopped,
    log
  })
  return stages
}

async function react (s: MemberStages, o: StagesOptions, kind: SlotMessageKind, slot: number, value: MessageValues[SlotMessageKind]): Promise<void> {
  const ctx = o.table.at(slot)
  if (kind === 'OpenSlot') {
    if (ctx != null) {
      ctx.openedAt = Date.now()
      ctx.opener = (value as MessageValues['OpenSlot']).leaderIndex
    }
    o.pool.reserve(slot, (value as MessageValues['OpenSlot']).unsealed)
    s.duties.scheduleTakeover(slot)
  }
  if ((kind === 'OpenSlot' || kind === 'AcceptHint') && o.machine.inputsComplete(slot)) {
    void s.simulator.run(slot)
  }
  if (kind === 'SubmitSimulation') {
    o.log.debug('simulation-recorded', { slot, member: (value as MessageValues['SubmitSimulation']).memberIndex })
    if (ctx?.sealed !== true) { s.duties.maybeSeal(slot) }
  }
  if (kind === 'SealCandidate') {
    await s.candidates.sealed(slot)
  }
}
