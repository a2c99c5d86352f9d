/**
 * A committee member: two attested planes, the pinned chain, the machine, the signing record and the
 * store, wired into the slot loop:
 *
 * head observed → the slot's leader issues OpenSlot (+ its AcceptHints) → every member simulates the
 * committed inputs and gossips SubmitSimulation (its BLS signature over the candidate signing root) →
 * once a strict majority agrees, the leader (or, after `leaderTimeoutMs` per rank, the next member)
 * issues SealCandidate naming the signers → every member builds the same candidate, stores it and
 * publishes it on the public candidates topic → the head passes `markDoneDepth` → MarkDone.
 */
import { join } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { ChainRpc, detectChainInfo, HeadWatcher, ParentStateCache, parentHeaderOf, rpcStateSource } from '../chain/index.ts'
import { explainVerify } from '../config/index.ts'
import { simulateSlot, txDecoder } from '../core/index.ts'
import { DoubleSignError, leaderFor, SafeSigner, slotInputsOf, takeoverRank, AtelierMachine } from '../machine/index.ts'
import {
  MAX_SYNC_RANGE, MemberEvidenceSource, Plane, policyFromConfig, requestCandidates, RosterService, serveHints, serveSync, verifierFromConfig
} from '../p2p/index.ts'
import {
  candidateSigningRoot, decodeAnyMessage, encodeMessage, hintId, MAX_HINTS_PER_SLOT, toHex, verifyHintSignature
} from '../proto/index.ts'
import { decodeFor, gossipTopicNames, validateCandidate, validateSlotMessage } from '../topics/index.ts'
import { InputPool, serveIngestion } from './ingestion.ts'
import { silentLogger } from './log.ts'
import { NodeMetrics } from './metrics.ts'
import { SigningLog } from './signing-log.ts'
import { NodeStore } from './store.ts'
import type { Logger } from './log.ts'
import type { ChainInfo, RpcBlock, SlotBoundary } from '../chain/index.ts'
import type { Config } from '../config/index.ts'
import type { SlotResult } from '../core/index.ts'
import type { MemberKeys, QuoteProvider } from '../enclave/index.ts'
import type { ApplyResult, Command, SlotSpec } from '../machine/index.ts'
import type { HandshakeEvent, HintVerdict } from '../p2p/index.ts'
import type { CandidateValue, HintBundleValue, MessageValues } from '../proto/index.ts'
import type { GossipTopicNames, SlotMessageKind } from '../topics/index.ts'
import type { PeerId } from '@libp2p/interface'
import type { Server } from 'node:http'

export interface MemberNodeOptions {
  config: Config
  keys: MemberKeys
  dataDir: string
  quoteProvider: QuoteProvider
  /** operator tickets for this member's two peer ids */
  operatorTickets: { private: string, public: string }
  listenPrivate?: string[]
  listenPublic?: string[]
  /** other members' private-plane multiaddrs; public planes are found through roster gossip */
  bootstrap?: string[]
  /** serve the ingestion JSON-RPC on 127.0.0.1:port (0 = any free port) */
  ingestionPort?: number
  /** serve Prometheus metrics on 127.0.0.1:port (0 = any free port) */
  metricsPort?: number
  logger?: Logger
  feeRecipient?: Uint8Array
  /** seconds between a parent and the block built on it */
  slotSeconds?: number
  /** test-only fault injection: simulate with another coinbase (a divergent image) */
  fault?: 'wrong-coinbase'
}

export interface SealedEvent {
  candidate: CandidateValue
  /** OpenSlot applied → sealed, ms (undefined when the candidate came from the public topic) */
  latencyMs?: number
  simulationMs?: number
  sealer: 'self' | 'committee' | 'public'
}

function withPeer (addr: string, peerId: string): string {
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${peerId}`
}

const NO_BUNDLE = { txs: [], revertProtected: false }
const RELAY_BATCH = 256
const RELAY_DELAY_MS = 20
const MAX_BUFFERED_PER_SLOT = 256

export class MemberNode extends EventTarget {
  readonly index: number
  readonly config: Config
  readonly metrics = new NodeMetrics()
  readonly pool = new InputPool()
  readonly topics: GossipTopicNames
  readonly log: Logger
  privatePlane!: Plane
  publicPlane!: Plane
  roster!: RosterService
  machine!: AtelierMachine
  store!: NodeStore
  chainInfo!: ChainInfo
  ingestionPort?: number
  metricsPort?: number
  readonly #o: MemberNodeOptions
  readonly #rpc: ChainRpc
  readonly #parents: ParentStateCache
  /** hints collected per slot, by hint id, in arrival order */
  readonly #hints = new Map<number, Map<string, HintBundleValue>>()
  readonly #buffered = new Map<number, Command[]>()
  readonly #opened = new Map<number, number>()
  readonly #simMs = new Map<number, number>()
  readonly #timers = new Map<number, NodeJS.Timeout[]>()
  readonly #sealedSlots = new Set<number>()
  readonly #submitting = new Set<number>()
  /** every candidate up to this slot is in the store (what catch-up starts after) */
  #syncedThrough = -1
  /** command-log writes in flight */
  readonly #writes = new Set<Promise<void>>()
  readonly #keptRoots = new Map<number, Uint8Array>()
  /** slots this member is sealing itself (as leader or by takeover) */
  readonly #sealing = new Set<number>()
  #signer!: SafeSigner
  #signingLog?: SigningLog
  #watcher!: HeadWatcher
  #ingestion?: Server
  #head = -1
  #stopped = false
  #commandSeq = 0
  readonly #relay: Uint8Array[] = []
  #relayTimer: NodeJS.Timeout | undefined
  #catchingUp = false

  private constructor (o: MemberNodeOptions, index: number) {
    super()
    this.#o = o
    this.index = index
    this.config = o.config
    this.topics = gossipTopicNames(o.config.lattice, o.config.signature())
    this.log = (o.logger ?? silentLogger).child({ member: index })
    this.#rpc = new ChainRpc(o.config.chainRpc, { timeoutMs: o.config.tuning.rpcTimeoutMs })
    this.#parents = new ParentStateCache(this.#rpc)
  }

  static async start (o: MemberNodeOptions): Promise<MemberNode> {
    const index = o.config.rosterIndexOf(o.keys.bls.publicKey)
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
    this.#syncedThrough = (await this.store.latestCandidateSlot()) ?? -1
    this.#signingLog = SigningLog.open(join(o.dataDir, 'signing-record'), await this.store.legacySigningRecords())
    this.#signer = new SafeSigner(o.keys.bls.secretKey, this.#signingLog)
    this.chainInfo = await detectChainInfo(this.#rpc)
    const verifier = verifierFromConfig(config)
    const onHandshake = (plane: string) => (e: HandshakeEvent) => {
      if (e.outcome === 'admitted') {
        this.metrics.admissions.inc({ plane, role: e.role })
        this.log.debug('peer-admitted', { plane, peer: e.remotePeer, role: e.role, direction: e.direction })
      } else if (e.outcome === 'rejected') {
        this.metrics.rejections.inc({ plane, reason: e.reason ?? 'unknown' })
        this.log.warn('peer-rejected', { plane, peer: e.remotePeer, reason: e.reason, detail: e.message })
      } else {
        this.log.debug('handshake-failed', { plane, peer: e.remotePeer, outcome: e.outcome, reason: e.reason })
      }
    }
    this.privatePlane = await Plane.create({
      name: 'private',
      privateKey: o.keys.privatePlane,
      listen: o.listenPrivate ?? ['/ip4/127.0.0.1/tcp/0'],
      policy: policyFromConfig(config, ['member'], verifier),
      evidence: new MemberEvidenceSource(o.quoteProvider, o.operatorTickets.private),
      topics: [this.topics.simulations, this.topics.roster, this.topics.hint, this.topics.pool],
      upgradeTimeoutMs: config.tuning.upgradeTimeoutMs,
      metricsRegistry: this.metrics.planeRegistry('private'),
      onHandshake: onHandshake('private')
    })
    this.publicPlane = await Plane.create({
      name: 'public',
      privateKey: o.keys.publicPlane,
      listen: o.listenPublic ?? ['/ip4/127.0.0.1/tcp/0'],
      policy: policyFromConfig(config, ['member', 'cobuilder', 'reader'], verifier),
      evidence: new MemberEvidenceSource(o.quoteProvider, o.operatorTickets.public),
      topics: [this.topics.candidates],
      upgradeTimeoutMs: config.tuning.upgradeTimeoutMs,
      metricsRegistry: this.metrics.planeRegistry('public'),
      onHandshake: onHandshake('public')
    })
    this.machine = new AtelierMachine({
      roster: config.roster,
      domainId: config.root().bytes,
      simulate: async spec => this.#simulate(spec),
      onDivergence: (slot, member) => {
        this.metrics.simulationDivergence.inc()
        this.log.warn('simulation-divergence', { slot, member })
      }
    })
    this.roster = new RosterService({
      privatePlane: this.privatePlane,
      publicPlane: this.publicPlane,
      topic: this.topics.roster,
      roster: config.roster,
      fingerprint: config.signature().bytes,
      memberIndex: this.index,
      blsSecretKey: o.keys.bls.secretKey,
      intervalMs: config.tuning.rosterAnnounceMs,
      onMismatch: (reason) => {
        this.metrics.rosterMismatch.inc()
        this.log.warn('roster-mismatch', { reason })
      },
      onEntry: (entry, isNew) => {
        if (isNew && entry.memberIndex !== this.index) {
          this.log.info('member-found', { index: entry.memberIndex, private: entry.privatePeerId, public: entry.publicPeerId })
          for (const a of entry.privateAddrs) { this.privatePlane.keepConnected(withPeer(a, entry.privatePeerId)) }
          for (const a of entry.publicAddrs) { this.publicPlane.keepConnected(withPeer(a, entry.publicPeerId)) }
        }
      },
      onInvalid: reason => { this.log.debug('roster-invalid', { reason }) }
    })
    await this.#replayCommands()
    this.#installValidators()
    await this.roster.start()
    await serveHints(this.publicPlane, async (hint, from) => this.#onHint(hint, from), (peer, role) => {
      this.metrics.hints.inc({ result: 'refused-role' })
      this.log.warn('hint-stream-refused', { peer: peer.toString(), role: role ?? 'none' })
    })
    await serveSync(this.publicPlane, this.store)
    this.publicPlane.node.addEventListener('peer:connect', evt => {
      if (this.publicPlane.registry.roleOf(evt.detail) === 'member') {
        void this.#catchUp(evt.detail)
      }
    })
    if (o.ingestionPort != null) {
      const { server, port } = await serveIngestion({
        transactions: txs => this.submitTransactions(txs),
        bid: bid => {
          this.#predecode(bid.bundle.txs)
          this.pool.addBid(bid)
          void this.privatePlane.pubsub.publish(this.topics.pool, encodeMessage('AuctionBid', bid)).catch(() => {})
        }
      }, o.ingestionPort)
      this.#ingestion = server
      this.ingestionPort = port
    }
    if (o.metricsPort != null) {
      this.metricsPort = await this.metrics.serve(o.metricsPort)
    }
    for (const addr of o.bootstrap ?? []) {
      this.privatePlane.keepConnected(addr)
    }
    this.#watcher = new HeadWatcher(this.#rpc, {
      intervalMs: config.tuning.headPollMs,
      onSlot: b => { void this.#onSlot(b) },
      onError: err => { this.log.warn('rpc-error', { code: err.code, message: err.message }) }
    })
    this.#watcher.start()
    this.log.info('member-started', {
      private: this.privatePlane.addresses().map(String),
      public: this.publicPlane.addresses().map(String),
      chainId: this.chainInfo.chainId,
      hardfork: this.chainInfo.hardfork,
      fingerprint: config.signature().toString()
    })
  }

  /** Fetches the candidates sealed while this member was away from another member (sync). */
  async #catchUp (peer: PeerId): Promise<void> {
    if (this.#catchingUp || this.#stopped) { return }
    this.#catchingUp = true
    let fetched = 0
    try {
      // from what this member held when it started, not from its latest candidate: a live candidate
      // can arrive before the catch-up runs, and would hide the gap below it
      let from = this.#syncedThrough + 1
      let complete = false
      for (let page = 0; page < 1000; page++) {
        const got = await requestCandidates(this.publicPlane, peer, from, Number.MAX_SAFE_INTEGER)
        for (const c of got) {
          const verdict = explainVerify(c, this.config)
          if (!verdict.valid) {
            this.log.warn('sync-candidate-invalid', { slot: c.slot, reason: verdict.reason })
            continue
          }
          if (!this.#sealedSlots.has(c.slot)) {
            fetched++
            await this.#storePublicCandidate(c)
          }
        }
        const last = got.at(-1)
        if (last == null || got.length < MAX_SYNC_RANGE) {
          complete = true
          break
        }
        from = last.slot + 1
      }
      if (complete) {
        this.#syncedThrough = Math.max(this.#syncedThrough, (await this.store.latestCandidateSlot()) ?? -1)
      }
      if (fetched > 0) { this.log.info('caught-up', { candidates: fetched, from: peer.toString() }) }
    } catch (err) {
      this.log.debug('catch-up-failed', { peer: peer.toString(), message: (err as Error).message })
    } finally {
      this.#catchingUp = false
    }
  }

  /** Rebuilds in-flight slots from the command log after a restart (the signing record stays binding). */
  async #replayCommands (): Promise<void> {
    const log = await this.store.commands()
    this.#commandSeq = log.reduce((max, c) => Math.max(max, c.seq + 1), 0)
    for (const { slot, message } of log) {
      const stored = await this.store.getCandidate(slot)
      if (stored != null) {
        this.#keep(stored)
        continue
      }
      const m = decodeAnyMessage(message) as { kind: SlotMessageKind, value: MessageValues[SlotMessageKind] }
      await this.#apply(m.kind, m.value, true)
    }
    if (log.length > 0) {
      this.log.info('commands-replayed', { commands: log.length, openSlots: this.machine.query({ type: 'OpenSlots' }).length })
    }
  }

  /** Adds transactions to the pool and relays them (batched every few ms) to the other members. */
  submitTransactions (txs: Uint8Array[]): string[] {
    this.#predecode(txs)
    const added = this.pool.addTransactions(txs)
    if (added.length > 0) {
      this.#relay.push(...txs)
      if (this.#relay.length >= RELAY_BATCH) {
        this.#flushRelay()
      } else {
        this.#relayTimer ??= setTimeout(() => { this.#flushRelay() }, RELAY_DELAY_MS)
      }
    }
    return added
  }

  #flushRelay (): void {
    clearTimeout(this.#relayTimer)
    this.#relayTimer = undefined
    const txs = this.#relay.splice(0)
    if (txs.length > 0 && !this.#stopped) {
      void this.privatePlane.pubsub.publish(this.topics.pool, encodeMessage('PoolTransactions', { txs })).catch(() => {})
    }
  }

  async stop (): Promise<void> {
    if (this.#stopped) { return }
    this.#stopped = true
    clearTimeout(this.#relayTimer)
    await this.#watcher?.stop()
    for (const list of this.#timers.values()) { for (const t of list) { clearTimeout(t) } }
    this.roster?.stop()
    if (this.#ingestion != null) {
      this.#ingestion.closeAllConnections()
      await new Promise(resolve => this.#ingestion?.close(resolve))
    }
    await this.metrics.close()
    await Promise.allSettled([this.privatePlane?.stop(), this.publicPlane?.stop()])
    await Promise.all([...this.#writes])
    await this.store?.close()
    this.#signingLog?.close()
    this.log.info('member-stopped')
  }

  // --- gossip -------------------------------------------------------------------------------------

  #installValidators (): void {
    const count = (topic: string, result: string, reason: string): void => {
      this.metrics.gossip.inc({ topic, result })
      if (result === 'reject') { this.log.warn('gossip-rejected', { topic, reason }) }
    }
    const fp = this.config.root().bytes
    this.privatePlane.validate(this.topics.simulations, (_source, msg) => {
      const check = validateSlotMessage(msg.data, {
        roster: this.config.roster,
        view: this.roster,
        origin: msg.type === 'signed' ? msg.from.toString() : undefined,
        leaderFor: slot => leaderFor(slot, this.config.committeeSize),
        isKnownSlot: slot => this.machine.slotSpec(slot) != null || this.#sealedSlots.has(slot)
      })
      count('simulations', check.verdict, check.reason)
      return check.verdict
    })
    this.privatePlane.validate(this.topics.hint, (_source, msg) => {
      const d = decodeFor(msg.data, ['HintBundle'] as const)
      const signed = d.value != null && verifyHintSignature(d.value.value, fp)
      const verdict = signed ? 'accept' : 'reject'
      count('hint', verdict, signed ? d.reason : `${d.reason}; bad hint signature`)
      return verdict
    })
    this.privatePlane.validate(this.topics.pool, (_source, msg) => {
      const d = decodeFor(msg.data, ['PoolTransactions', 'AuctionBid'] as const)
      count('pool', d.verdict, d.reason)
      return d.verdict
    })
    this.publicPlane.validate(this.topics.candidates, (source, msg) => {
      const check = validateCandidate(msg.data, {
        roster: this.config.roster,
        domainId: fp,
        sourceRole: this.publicPlane.registry.roleOf(source),
        keptRoot: slot => this.#keptRoots.get(slot)
      })
      count('candidates', check.verdict, check.reason)
      return check.verdict
    })
    this.privatePlane.pubsub.addEventListener('message', evt => {
      const { topic, data } = evt.detail
      if (topic === this.topics.simulations) {
        const m = decodeAnyMessage(data) as { kind: SlotMessageKind, value: MessageValues[SlotMessageKind] }
        void this.#applyRemote(m.kind, m.value)
      } else if (topic === this.topics.hint) {
        this.#addHint(decodeAnyMessage(data).value as HintBundleValue)
      } else if (topic === this.topics.pool) {
        const m = decodeAnyMessage(data)
        if (m.kind === 'PoolTransactions') {
          this.#predecode(m.value.txs)
          this.pool.addTransactions(m.value.txs)
        } else if (m.kind === 'AuctionBid') {
          this.#predecode(m.value.bundle.txs)
          this.pool.addBid(m.value)
        }
      }
    })
    this.publicPlane.pubsub.addEventListener('message', evt => {
      if (evt.detail.topic === this.topics.candidates) {
        void this.#storePublicCandidate(decodeAnyMessage(evt.detail.data).value as CandidateValue)
      }
    })
    this.privatePlane.pubsub.subscribe(this.topics.simulations)
    this.privatePlane.pubsub.subscribe(this.topics.hint)
    this.privatePlane.pubsub.subscribe(this.topics.pool)
    this.publicPlane.pubsub.subscribe(this.topics.candidates)
  }

  #keep (candidate: CandidateValue): void {
    this.#sealedSlots.add(candidate.slot)
    this.#keptRoots.set(candidate.slot, candidateSigningRoot(candidate, this.config.root().bytes))
    for (const t of this.#timers.get(candidate.slot) ?? []) { clearTimeout(t) }
    this.#timers.delete(candidate.slot)
  }

  async #publish (kind: SlotMessageKind, value: MessageValues[SlotMessageKind]): Promise<void> {
    await this.privatePlane.pubsub.publish(this.topics.simulations, encodeMessage(kind, value as never)).catch(err => {
      this.log.debug('publish-failed', { kind, message: (err as Error).message })
    })
  }

  // --- hints --------------------------------------------------------------------------------------

  async #onHint (hint: HintBundleValue, from: PeerId): Promise<HintVerdict> {
    const fp = this.config.root().bytes
    let verdict: HintVerdict
    if (!verifyHintSignature(hint, fp)) {
      verdict = { accepted: false, reason: 'bad signature: it does not recover the co-builder address' }
    } else if (hint.slot <= this.#head || this.machine.slotSpec(hint.slot) != null) {
      verdict = { accepted: false, reason: `slot ${hint.slot} is not open for hints (next open slot is ${this.#head + 1})` }
    } else if (hint.slot > this.#head + 2) {
      verdict = { accepted: false, reason: `slot ${hint.slot} is too far ahead (next open slot is ${this.#head + 1})` }
    } else if (!this.#addHint(hint)) {
      verdict = { accepted: false, reason: 'duplicate or too many hints for this slot' }
    } else {
      await this.privatePlane.pubsub.publish(this.topics.hint, encodeMessage('HintBundle', hint)).catch(() => {})
      verdict = { accepted: true, reason: 'accepted' }
    }
    this.metrics.hints.inc({ result: verdict.accepted ? 'accepted' : 'rejected' })
    this.log.info('hint', { slot: hint.slot, from: from.toString(), accepted: verdict.accepted, reason: verdict.reason })
    return verdict
  }

  /** Hints collected for a slot (by every member: whoever leads it includes them). */
  hintsFor (slot: number): HintBundleValue[] {
    return [...(this.#hints.get(slot)?.values() ?? [])]
  }

  #addHint (hint: HintBundleValue): boolean {
    const hints = this.#hints.get(hint.slot) ?? new Map<string, HintBundleValue>()
    const id = toHex(hintId(hint))
    if (hints.size >= MAX_HINTS_PER_SLOT || hints.has(id)) {
      return false
    }
    hints.set(id, hint)
    this.#hints.set(hint.slot, hints)
    this.#predecode(hint.template.txs)
    return true
  }

  /**
   * Decodes inputs as they arrive (sender recovery included): the slot's simulation then finds them
   * decoded, and that work leaves the slot's critical path.
   */
  #predecode (txs: Uint8Array[]): void {
    const decoder = txDecoder(this.chainInfo)
    for (const raw of txs) {
      decoder.decode(raw)
    }
  }

  // --- the slot loop ------------------------------------------------------------------------------

  async #onSlot (b: SlotBoundary): Promise<void> {
    this.#head = Math.max(this.#head, b.parentNumber)
    await this.#markDone(b.parentNumber)
    if (leaderFor(b.slot, this.config.committeeSize) !== this.index || this.machine.slotSpec(b.slot) != null || this.#sealedSlots.has(b.slot)) {
      return
    }
    const parent = b.parent
    const hints = this.hintsFor(b.slot)
    const open = {
      slot: b.slot,
      parent: hexToBytes(b.parentHash as `0x${string}`),
      parentNumber: b.parentNumber,
      timestamp: b.timestamp + (this.#o.slotSeconds ?? 12),
      feeRecipient: this.#o.feeRecipient ?? new Uint8Array(20),
      prevRandao: hexToBytes((parent.mixHash ?? `0x${'00'.repeat(32)}`) as `0x${string}`),
      gasLimit: Number(BigInt(parent.gasLimit)),
      leaderIndex: this.index,
      hintCount: hints.length,
      unsealed: this.pool.unsealedFor(),
      auctionWinner: this.pool.auctionWinnerFor(b.slot) ?? NO_BUNDLE
    }
    const r = await this.#applyLocal('OpenSlot', open)
    if (!r.ok) { return }
    this.metrics.slotsOpened.inc()
    this.log.info('slot-opened', { slot: b.slot, txs: open.unsealed.length, hints: hints.length, auction: open.auctionWinner.txs.length, openedAt: Date.now() })
    for (let i = 0; i < hints.length; i++) {
      await this.#applyLocal('AcceptHint', { slot: b.slot, sequence: i, hint: hints[i] })
    }
  }

  async #applyLocal (kind: SlotMessageKind, value: MessageValues[SlotMessageKind]): Promise<ApplyResult> {
    const r = await this.#apply(kind, value)
    if (r.ok) {
      await this.#publish(kind, value)
    } else {
      this.log.warn('local-command-rejected', { kind, code: r.code, reason: r.reason })
    }
    return r
  }

  async #applyRemote (kind: SlotMessageKind, value: MessageValues[SlotMessageKind]): Promise<void> {
    const r = await this.#apply(kind, value)
    if (!r.ok && (r.code === 'slot-not-open' || r.code === 'bad-signer-set' || r.code === 'hint-sequence')) {
      // arrived before what it builds on (gossip does not keep order): retry after the next step
      const slot = (value as { slot: number }).slot
      const list = this.#buffered.get(slot) ?? []
      if (list.length < MAX_BUFFERED_PER_SLOT) {
        list.push({ type: kind, value } as Command)
        this.#buffered.set(slot, list)
      }
    } else if (!r.ok && r.code !== 'duplicate-simulation' && r.code !== 'already-sealed' && r.code !== 'slot-exists') {
      this.log.warn('remote-command-rejected', { kind, code: r.code, reason: r.reason })
    }
  }

  async #apply (kind: SlotMessageKind, value: MessageValues[SlotMessageKind], replay = false): Promise<ApplyResult> {
    const slot = (value as { slot: number }).slot
    const r = await this.machine.apply({ type: kind, value } as Command)
    if (!r.ok) { return r }
    if (!replay) {
      // logged for a restart, not awaited: the slot goes on while LevelDB writes (a thread-pool hop
      // that took tens of ms on a loaded machine); markDone and stop wait for the writes in flight
      this.#logWrite(this.store.appendCommand(slot, this.#commandSeq++, encodeMessage(kind, value as never)))
    }
    await this.#after(kind, slot, value)
    await this.#retryBuffered(slot)
    return r
  }

  #logWrite (write: Promise<void>): void {
    const tracked = write.catch(err => { this.log.error('command-log-write-failed', { message: (err as Error).message }) })
    this.#writes.add(tracked)
    void tracked.finally(() => this.#writes.delete(tracked))
  }

  async #retryBuffered (slot: number): Promise<void> {
    const list = this.#buffered.get(slot)
    if (list == null || list.length === 0) { return }
    this.#buffered.delete(slot)
    for (const cmd of list) {
      await this.#applyRemote(cmd.type as SlotMessageKind, cmd.value as MessageValues[SlotMessageKind])
    }
  }

  async #after (kind: SlotMessageKind, slot: number, value: MessageValues[SlotMessageKind]): Promise<void> {
    if (kind === 'OpenSlot') {
      this.#opened.set(slot, Date.now())
      this.pool.reserve(slot, (value as MessageValues['OpenSlot']).unsealed)
      this.#scheduleTakeover(slot)
    }
    if ((kind === 'OpenSlot' || kind === 'AcceptHint') && this.machine.inputsComplete(slot)) {
      void this.#simulateAndSubmit(slot)
    }
    if (kind === 'SubmitSimulation') {
      this.log.debug('simulation-recorded', { slot, member: (value as MessageValues['SubmitSimulation']).memberIndex })
      this.#maybeSeal(slot)
    }
    if (kind === 'SealCandidate') {
      await this.#sealed(slot, this.#sealing.has(slot) ? 'self' : 'committee')
    }
  }

  async #simulate (spec: SlotSpec): Promise<SlotResult> {
    const block = await this.#rpc.call<RpcBlock | null>('eth_getBlockByNumber', [`0x${spec.open.parentNumber.toString(16)}`, false])
    if (block == null || toHex(hexToBytes(block.hash as `0x${string}`)) !== toHex(spec.open.parent)) {
      throw new Error(`parent ${spec.open.parentNumber} on the chain is not ${toHex(spec.open.parent).slice(0, 16)}… (reorg or another chain)`)
    }
    const inputs = slotInputsOf(spec, parentHeaderOf(block))
    if (this.#o.fault === 'wrong-coinbase') {
      inputs.env = { ...inputs.env, feeRecipient: new Uint8Array(20).fill(0xbb) }
    }
    return simulateSlot(inputs, this.chainInfo, rpcStateSource(this.#parents.get(BigInt(spec.open.parentNumber))))
  }

  async #simulateAndSubmit (slot: number): Promise<void> {
    // OpenSlot and the last AcceptHint can both complete a slot's inputs: simulate and sign once
    if (this.#submitting.has(slot)) { return }
    this.#submitting.add(slot)
    const started = performance.now()
    let result: SlotResult
    try {
      result = await this.machine.simulate(slot)
    } catch (err) {
      this.#submitting.delete(slot)
      this.log.error('simulation-failed', { slot, message: (err as Error).message })
      return
    }
    this.#simMs.set(slot, performance.now() - started)
    this.log.debug('slot-simulated', { slot, ms: Math.round(performance.now() - started), txs: result.included.length })
    // the output hash this member signs: with a faulty simulation it differs from the honest one
    const { outputHash } = this.machine.candidateOf(slot, result)
    let signature: Uint8Array
    try {
      signature = await this.#signer.sign(slot, outputHash)
    } catch (err) {
      this.log.error(err instanceof DoubleSignError ? 'double-sign-refused' : 'sign-failed', { slot, message: (err as Error).message })
      return
    }
    const out = { slot, memberIndex: this.index, outputHash, gasEstimate: Number(result.gasUsed), signature }
    await this.#applyLocal('SubmitSimulation', out)
  }

  #maybeSeal (slot: number): void {
    if (this.#sealedSlots.has(slot)) { return }
    const agreement = this.machine.query({ type: 'SimulationAgreement', slot })
    if (agreement?.outputHash == null || !agreement.members.includes(this.index)) { return }
    if (takeoverRank(slot, this.config.committeeSize, this.index) !== 0) { return }
    // a strict majority seals at once (the design): waiting for more signers only adds latency, and a
    // candidate is exactly as valid with a majority as with everyone
    void this.#seal(slot)
  }

  #scheduleTakeover (slot: number): void {
    const rank = takeoverRank(slot, this.config.committeeSize, this.index)
    if (rank === 0) { return }
    this.#timer(slot, rank * this.config.tuning.leaderTimeoutMs, () => {
      if (!this.#sealedSlots.has(slot)) {
        this.log.warn('leader-takeover', { slot, rank })
        void this.#seal(slot)
      }
    })
  }

  #timer (slot: number, ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms)
    t.unref()
    const list = this.#timers.get(slot) ?? []
    list.push(t)
    this.#timers.set(slot, list)
  }

  async #seal (slot: number): Promise<void> {
    if (this.#sealedSlots.has(slot) || this.#stopped) { return }
    const agreement = this.machine.query({ type: 'SimulationAgreement', slot })
    if (agreement?.outputHash == null || !agreement.members.includes(this.index)) { return }
    this.#sealing.add(slot)
    await this.#applyLocal('SealCandidate', { slot, outputHash: agreement.outputHash, signers: agreement.members })
  }

  async #sealed (slot: number, sealer: SealedEvent['sealer']): Promise<void> {
    const candidate = this.machine.query({ type: 'CandidateFor', slot })
    if (candidate == null || this.#sealedSlots.has(slot)) { return }
    this.#keep(candidate)
    // published before it is stored: the store is only for serving sync (a synced write costs a disk
    // flush), and a member that crashes in between gets the candidate back from the others
    await this.publicPlane.pubsub.publish(this.topics.candidates, encodeMessage('Candidate', candidate)).catch(() => {})
    const opened = this.#opened.get(slot)
    const latencyMs = opened == null ? undefined : Date.now() - opened
    if (latencyMs != null) { this.metrics.sealLatency.observe(latencyMs / 1000) }
    await this.store.putCandidate(candidate)
    this.pool.settle(slot, candidate.body)
    this.metrics.slotsSealed.inc()
    this.log.info('slot-sealed', { slot, txs: candidate.body.length, gas: candidate.header.gasUsed, signers: candidate.committeeRoster.length, latencyMs, simulationMs: this.#simMs.get(slot), sealer })
    this.dispatchEvent(new CustomEvent<SealedEvent>('sealed', { detail: { candidate, latencyMs, simulationMs: this.#simMs.get(slot), sealer } }))
  }

  async #storePublicCandidate (candidate: CandidateValue): Promise<void> {
    if (this.#sealedSlots.has(candidate.slot)) { return }
    // verified by the topic validator; the committee's candidate is kept even by a member whose own
    // simulation diverged (its machine will never seal this slot itself)
    this.#keep(candidate)
    if (await this.store.putCandidate(candidate)) {
      this.pool.settle(candidate.slot, candidate.body)
      this.metrics.slotsSealed.inc()
      this.log.info('candidate-adopted', { slot: candidate.slot, signers: candidate.committeeRoster.length })
      this.dispatchEvent(new CustomEvent<SealedEvent>('sealed', { detail: { candidate, sealer: 'public' } }))
    }
  }

  async #markDone (head: number): Promise<void> {
    const depth = this.config.tuning.markDoneDepth
    for (const slot of this.machine.query({ type: 'OpenSlots' })) {
      if (slot + depth > head) { continue }
      const spec = this.machine.slotSpec(slot)
      if (!this.#sealedSlots.has(slot)) {
        this.metrics.slotsMissed.inc()
        if (spec != null) { this.pool.release(slot, spec.open.unsealed) }
        this.log.warn('slot-missed', { slot })
      }
      await this.machine.apply({ type: 'MarkDone', value: { slot } })
      await Promise.all([...this.#writes])
      await this.store.dropCommands(slot)
      this.#buffered.delete(slot)
      this.#hints.delete(slot)
      this.#opened.delete(slot)
      this.#simMs.delete(slot)
      this.#submitting.delete(slot)
      this.#sealing.delete(slot)
    }
    for (const slot of [...this.#keptRoots.keys()]) { if (slot + depth <= head) { this.#keptRoots.delete(slot) } }
    for (const slot of [...this.#hints.keys()]) { if (slot + depth <= head) { this.#hints.delete(slot) } }
  }

  /** Hook for an integrator that GCs on the refunds tally instead of chain depth. */
  async markDone (slot: number): Promise<ApplyResult> {
    return this.machine.apply({ type: 'MarkDone', value: { slot } })
  }

  /** Multiaddrs (with peer ids) of this member's planes. */
  addresses (): { private: string[], public: string[] } {
    return {
      private: this.privatePlane.addresses().map(String),
      public: this.publicPlane.addresses().map(String)
    }
  }
}
