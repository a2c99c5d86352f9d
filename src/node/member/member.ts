/**
 * A committee member, as the composition root of its stages: two attested planes, the pinned chain,
 * the machine, the signing record and the store, wired into the slot loop
 *
 * payload attributes on the head (the beacon node's event, slot-trigger.ts) → the slot's leader
 * issues OpenSlot with that environment (+ its AcceptHints) → every member checks the environment
 * against its own beacon node, simulates the committed inputs and gossips SubmitSimulation (its BLS
 * signature over the candidate signing root) →
 * once a strict majority agrees, the leader (or, after `leaderTimeoutMs` per rank, the next member)
 * issues SealCandidate naming the signers → every member builds the same candidate, stores it and
 * publishes it on the public candidates topic → the slot clock passes `markDoneDepth` → MarkDone.
 *
 * Each stage is its own file under node/member/: the slot table (per-slot state), the command bus
 * (apply, reorder, log, replay), the duties (open, seal, takeover, retire), the simulator and its
 * environment check, the hint book, the gossip handlers, the sealed candidates and catch-up, built by
 * stages.ts; the slot trigger (beacon events meet the head), the upstream inputs, the planes; what a
 * member is started with is member-options.ts. This file only starts and stops them, in order (which
 * is why it stays past 300 lines: the start-up sequence reads best in one place).
 */
import { join } from 'node:path'
import { BeaconView } from '../../beacon/index.ts'
import { ChainRpc, detectChainInfo, HeadWatcher, ProvenParentCache } from '../../chain/index.ts'
import { forgetDecoded } from '../../core/index.ts'
import { AtelierMachine, SafeSigner } from '../../machine/index.ts'
import { serveBlobs, serveHints, serveSync } from '../../p2p/index.ts'
import { blsSign, encodeMessage, MAX_EXTRA_DATA_BYTES, openSlotSigningRoot, toHex } from '../../proto/index.ts'
import { gossipTopicNames } from '../../topics/index.ts'
import { BlobStore } from '../blob-store.ts'
import { InputPool } from '../input-pool.ts'
import { silentLogger } from '../log.ts'
import { NodeMetrics } from '../metrics.ts'
import { SigningLog } from '../signing-log.ts'
import { SlotPriority } from '../slot-priority.ts'
import { NodeStore } from '../store.ts'
import { chainRulesFor } from './chain-rules.ts'
import { environmentCheck } from './environment-check.ts'
import { EvidenceBook } from './evidence-book.ts'
import { describeTx, gateState } from './gate-state.ts'
import { installGossip } from './gossip-handlers.ts'
import { startPlanes } from './planes.ts'
import { parentSimulation } from './simulator.ts'
import { SlotTable } from './slot-table.ts'
import { beaconErrorLog, SlotTrigger } from './slot-trigger.ts'
import { buildStages } from './stages.ts'
import { Upstream } from './upstream.ts'
import type { CatchUp } from './catch-up.ts'
import type { CommandBus } from './command-bus.ts'
import type { Duties } from './duties.ts'
import type { HintBook } from './hint-book.ts'
import type { SealedCandidates, SealedEvent } from './sealed-candidates.ts'
import type { ChainInfo, RpcBlock } from '../../chain/index.ts'
import type { Config } from '../../config/index.ts'
import type { ForkSchedule } from '../../core/index.ts'
import type { ApplyResult } from '../../machine/index.ts'
import type { Plane, RosterService } from '../../p2p/index.ts'
import type { HintBundleValue, MessageValues, OpenSlotFieldsValue } from '../../proto/index.ts'
import type { GossipTopicNames, SlotMessageKind } from '../../topics/index.ts'
import type { Logger } from '../log.ts'
import type { MemberNodeOptions, OpenHook } from './member-options.ts'

export type { MemberNodeOptions, OpenHook } from './member-options.ts'

export class MemberNode extends EventTarget {
  readonly index: number
  readonly config: Config
  readonly metrics = new NodeMetrics()
  /** the sidecars of the blob transactions this member took in or was relayed */
  readonly blobs = new BlobStore()
  readonly pool = new InputPool({
    blobs: this.blobs,
    describe: raw => describeTx(raw, this.rules),
    onPromoted: raws => { this.#upstream.relay(raws) },
    // a spent transaction is not simulated again: its decoded form (~5.7 KB) need not wait for the LRU
    onGone: hash => { forgetDecoded(`0x${hash}`) }
  })

  readonly topics: GossipTopicNames
  readonly log: Logger
  readonly slots = new SlotTable()
  privatePlane!: Plane
  publicPlane!: Plane
  roster!: RosterService
  machine!: AtelierMachine
  store!: NodeStore
  chainInfo!: ChainInfo
  /** the chain's rules this member simulates under (chain-rules.ts) */
  rules!: ForkSchedule
  /** the consensus layer as this member's beacon node shows it */
  beacon!: BeaconView
  ingestionPort?: number
  metricsPort?: number
  readonly #o: MemberNodeOptions
  readonly #rpc: ChainRpc
  readonly #parents: ProvenParentCache
  readonly #gateParents: ProvenParentCache
  readonly #upstream: Upstream
  readonly #priority = new SlotPriority()
  /** since when the private plane has held a connection to another member without a break */
  #listeningSince?: number
  #bus!: CommandBus
  #duties!: Duties
  #hints!: HintBook
  #candidates!: SealedCandidates
  #catchUp!: CatchUp
  #signingLog?: SigningLog
  #evidence!: EvidenceBook
  #openLog?: SigningLog
  #watcher?: HeadWatcher
  #trigger?: SlotTrigger
  #stopped = false

  private constructor (o: MemberNodeOptions, index: number) {
    super()
    this.#o = o
    this.index = index
    this.config = o.config
    this.topics = gossipTopicNames(o.config.lattice, o.config.signature(), o.config.rulesTag())
    this.log = (o.logger ?? silentLogger).child({ member: index })
    this.#rpc = new ChainRpc(o.config.chainRpc, { timeoutMs: o.config.tuning.rpcTimeoutMs })
    this.#parents = new ProvenParentCache(this.#rpc, {
      warm: o.warmState,
      onOpen: path => {
        this.metrics.parentStateOpened.inc({ path })
        this.log.debug('parent-state-opened', { path })
      }
    })
    this.#gateParents = new ProvenParentCache(this.#rpc, { max: 2, warm: false })
    this.#upstream = new Upstream({
      pool: this.pool,
      blobs: this.blobs,
      log: this.log,
      rules: () => this.rules,
      publishPool: async bytes => { await this.privatePlane.pubsub.publish(this.topics.pool, bytes) },
      head: () => this.#trigger?.head,
      // its own parent cache: a gate batch that fails (an RPC answer that does not verify) must never
      // fail a slot's simulation awaiting the same proofs; the reads are cheap beside the slot's
      state: async head => gateState(await this.#gateParents.get(head.hash)),
      clock: () => this.beacon.clock,
      onRefused: r => {
        this.metrics.ingestionRefusals.inc({ code: r.code })
        // the caller has the reason in its answer; the log keeps it for the operator, at debug (a flood is many)
        this.log.debug('transaction-refused', { code: r.code, reason: r.message })
      },
      priority: this.#priority
    })
  }

  static async start (o: MemberNodeOptions): Promise<MemberNode> {
    const index = o.config.rosterIndexOf(o.keys.bls.publicKey)
    if (o.extraData != null && o.extraData.length > MAX_EXTRA_DATA_BYTES) {
      throw new Error(`extra data is ${o.extraData.length} bytes; a block header takes at most ${MAX_EXTRA_DATA_BYTES}`)
    }
    if (index < 0) {
      throw new Error(`this member's BLS key ${toHex(o.keys.bls.publicKey).slice(0, 16)}… is not in the config's committee (run keygen and add its committeeEntry)`)
    }
    const node = new MemberNode(o, index)
    try {
      await node.#start()
    } catch (err) {
      await node.stop().catch(() => {})
      throw err
    }
    return node
  }

  async #start (): Promise<void> {
    const o = this.#o
    const { config } = o
    this.store = await NodeStore.open(join(o.dataDir, 'db'))
    const heldThrough = (await this.store.latestCandidateSlot()) ?? -1
    this.#signingLog = SigningLog.open(join(o.dataDir, 'signing-record'), await this.store.legacySigningRecords())
    const signer = new SafeSigner(o.keys.bls.secretKey, this.#signingLog)
    // an opener signs one OpenSlot per slot, ever: on a record of its own (a candidate root is another)
    this.#openLog = SigningLog.open(join(o.dataDir, 'open-record'))
    const openSigner = new SafeSigner(o.keys.bls.secretKey, this.#openLog)
    this.chainInfo = await detectChainInfo(this.#rpc)
    const head = await this.#rpc.call<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    this.rules = chainRulesFor(config, this.chainInfo, Number(BigInt(head.timestamp)))
    const beaconLog = beaconErrorLog(this.log)
    this.beacon = await BeaconView.connect({
      url: o.beaconApi,
      timeoutMs: config.tuning.rpcTimeoutMs,
      onEnvironment: env => {
        beaconLog.recovered()
        this.#trigger?.onEnvironment(env)
      },
      onError: beaconLog.error
    })
    ;({ privatePlane: this.privatePlane, publicPlane: this.publicPlane, roster: this.roster } = await startPlanes({
      ...o,
      index: this.index,
      topics: this.topics,
      metrics: this.metrics,
      log: this.log
    }))
    this.#watchListening()
    this.#evidence = new EvidenceBook({
      machine: () => this.machine,
      store: this.store,
      publish: async bytes => { await this.privatePlane.pubsub.publish(this.topics.simulations, bytes) },
      metrics: this.metrics,
      log: this.log
    })
    this.machine = new AtelierMachine({
      roster: config.roster,
      domainId: config.root().bytes,
      simulate: parentSimulation({
        parents: this.#parents,
        rules: () => this.rules,
        hook: o.simulationHook,
        onParent: (slot, warm) => { this.log.debug('slot-parent', { slot, warm }) },
        priority: this.#priority
      }),
      onDivergence: (slot, member) => {
        this.metrics.simulationDivergence.inc()
        this.log.warn('simulation-divergence', { slot, member })
      },
      onEquivocation: e => { void this.#evidence.record(e, 'self') }
    })
    this.#buildStages(signer, openSigner, heldThrough)
    const replayed = await this.#bus.replay(candidate => { this.#candidates.keep(candidate) })
    if (replayed > 0) {
      this.log.info('commands-replayed', { commands: replayed, openSlots: this.machine.query({ type: 'OpenSlots' }).length })
    }
    installGossip({
      privatePlane: this.privatePlane,
      publicPlane: this.publicPlane,
      topics: this.topics,
      config,
      roster: this.roster,
      machine: this.machine,
      table: this.slots,
      bus: this.#bus,
      hints: this.#hints,
      evidence: this.#evidence,
      clock: () => this.beacon.clock,
      pool: this.pool,
      blobs: this.blobs,
      candidates: this.#candidates,
      predecode: txs => { this.#upstream.predecode(txs) },
      metrics: this.metrics,
      log: this.log
    })
    await this.roster.start()
    await serveHints(this.publicPlane, async (hint, from) => this.#hints.judge(hint, from), (peer, role) => {
      this.metrics.hints.inc({ result: 'refused-role' })
      this.log.warn('hint-stream-refused', { peer: peer.toString(), role: role ?? 'none' })
    })
    await serveSync(this.publicPlane, this.store)
    await serveBlobs(this.publicPlane, this.blobs)
    this.publicPlane.node.addEventListener('peer:connect', evt => {
      if (this.publicPlane.registry.roleOf(evt.detail) === 'member') {
        void this.#catchUp.from(evt.detail)
      }
    })
    await this.#startServers()
    for (const addr of o.bootstrap ?? []) {
      this.privatePlane.keepConnected(addr)
    }
    this.#trigger = new SlotTrigger({
      clock: this.beacon.clock,
      open: (env, parent) => { void this.#duties.open(env, parent) },
      retire: slot => { void this.#duties.retire(slot) },
      pollHead: () => { this.#watcher?.pollSoon() }
    })
    this.#watcher = new HeadWatcher(this.#rpc, {
      intervalMs: config.tuning.headPollMs,
      onSlot: b => {
        this.pool.onHead({ number: Number(BigInt(b.parent.number)), hash: b.parent.hash.toLowerCase(), parentHash: b.parent.parentHash.toLowerCase(), transactions: b.parent.transactions })
        this.#trigger?.onHead(b.parent)
      },
      onError: err => { this.log.warn('rpc-error', { code: err.code, message: err.message }) }
    })
    this.#watcher.start()
    this.log.info('member-started', {
      private: this.privatePlane.addresses().map(String),
      public: this.publicPlane.addresses().map(String),
      chainId: this.rules.chainId,
      forks: this.rules.forks.map(f => `${f.name}@${f.timestamp}`).join(','),
      beaconApi: o.beaconApi,
      genesisTime: this.beacon.clock.genesisTime,
      secondsPerSlot: this.beacon.clock.secondsPerSlot,
      fingerprint: config.signature().toString()
    })
  }

  /** A faulty image's second OpenSlots: signed past the signing record, and gossiped. */
  async #equivocate (fields: OpenSlotFieldsValue, hook: OpenHook): Promise<void> {
    for (const other of hook.others(fields)) {
      const signature = blsSign(this.#o.keys.bls.secretKey, openSlotSigningRoot(other, this.config.root().bytes))
      await this.#publish('OpenSlot', { ...other, signature })
    }
  }

  /** The slot pipeline's stages (stages.ts). */
  #buildStages (signer: SafeSigner, openSigner: SafeSigner, heldThrough: number): void {
    const o = this.#o
    const stages = buildStages({
      index: this.index,
      config: this.config,
      machine: this.machine,
      table: this.slots,
      store: this.store,
      pool: this.pool,
      signer,
      openSigner,
      clock: () => this.beacon.clock,
      equivocate: o.openHook == null ? undefined : async fields => { await this.#equivocate(fields, o.openHook as OpenHook) },
      heldThrough,
      publicPlane: this.publicPlane,
      metrics: this.metrics,
      log: this.log,
      leader: { extraData: o.extraData, gasLimitTarget: o.gasLimitTarget },
      nextSlot: () => this.beacon.clock.current() + 1,
      checkEnvironment: environmentCheck(this.beacon, this.config.tuning.payloadAttributesWaitMs),
      publishCommand: async (kind, value) => this.#publish(kind, value),
      relayHint: async hint => { await this.privatePlane.pubsub.publish(this.topics.hint, encodeMessage('HintBundle', hint)) },
      publishCandidate: async bytes => { await this.publicPlane.pubsub.publish(this.topics.candidates, bytes) },
      predecode: txs => { this.#upstream.predecode(txs) },
      emit: detail => {
        this.dispatchEvent(new CustomEvent<SealedEvent>('sealed', { detail }))
        this.#catchUp.repair(detail.candidate.slot)
      },
      stopped: () => this.#stopped,
      onMissed: slot => { this.dispatchEvent(new CustomEvent<number>('missed', { detail: slot })) },
      listeningSince: () => this.#listeningSince
    })
    this.#hints = stages.hints
    this.#candidates = stages.candidates
    this.#bus = stages.bus
    this.#duties = stages.duties
    this.#catchUp = stages.catchUp
  }

  async #publish (kind: SlotMessageKind, value: MessageValues[SlotMessageKind]): Promise<void> {
    await this.privatePlane.pubsub.publish(this.topics.simulations, encodeMessage(kind, value as never)).catch(err => {
      this.log.debug('publish-failed', { kind, message: (err as Error).message })
    })
  }

  async #startServers (): Promise<void> {
    const o = this.#o
    if (o.ingestionPort != null) {
      this.ingestionPort = await this.#upstream.serve(o.ingestionPort)
    }
    if (o.metricsPort != null) {
      this.metricsPort = await this.metrics.serve(o.metricsPort)
    }
  }

  /**
   * Gates transactions into the pool and relays those let in (batched every few ms) to the other
   * members: per transaction its hash or why it was refused.
   */
  async submitTransactions (txs: Uint8Array[]): Promise<Array<string | Error>> {
    return this.#upstream.submitRaw(txs)
  }

  /** Hints collected for a slot (by every member: whoever leads it includes them). */
  hintsFor (slot: number): HintBundleValue[] {
    return this.#hints?.for(slot) ?? []
  }

  /** Hook for an integrator that GCs on the refunds tally instead of chain depth: retires the slot. */
  async markDone (slot: number): Promise<ApplyResult> {
    return this.#duties.retireSlot(slot)
  }

  /** Keeps #listeningSince: from the first private-plane connection on, until the last one drops. */
  #watchListening (): void {
    const node = this.privatePlane.node
    node.addEventListener('connection:open', () => { this.#listeningSince ??= Date.now() })
    node.addEventListener('connection:close', () => {
      if (node.getConnections().length === 0) { this.#listeningSince = undefined }
    })
  }

  /** The chain's head as this member last saw it (undefined until the first). */
  get head (): RpcBlock | undefined {
    return this.#trigger?.head
  }

  /** Multiaddrs (with peer ids) of this member's planes. */
  addresses (): { private: string[], public: string[] } {
    return {
      private: this.privatePlane.addresses().map(String),
      public: this.publicPlane.addresses().map(String)
    }
  }

  async stop (): Promise<void> {
    if (this.#stopped) { return }
    this.#stopped = true
    await this.#upstream.stop()
    await this.#watcher?.stop()
    this.beacon?.stop()
    this.slots.clear()
    this.roster?.stop()
    await this.metrics.close()
    await Promise.allSettled([this.privatePlane?.stop(), this.publicPlane?.stop()])
    await this.#bus?.settled()
    await this.store?.close()
    this.#signingLog?.close()
    this.#openLog?.close()
    this.log.info('member-stopped')
  }
}
