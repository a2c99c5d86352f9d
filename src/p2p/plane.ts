/**
 * One libp2p node ("plane"): TCP + attested Noise + yamux + identify + gossipsub restricted to the
 * plane's topics. A member runs two (private and public), each with its own port and peer id; readers
 * and co-builders run one client plane. Peers from the bootstrap list are redialled with backoff.
 * Inbound connections are held to pre-admission limits until the attested handshake admits them.
 */
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub, TopicValidatorResult } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { AdmissionRegistry } from './admission-registry.ts'
import { attestedNoise } from './attested-noise.ts'
import { PreAdmission } from './pre-admission.ts'
import type { HandshakeEvent } from './attested-noise.ts'
import type { EvidenceSource } from './evidence-source.ts'
import type { RefusalEvent } from './pre-admission.ts'
import type { AdmissionPolicy } from '../enclave/index.ts'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Registry } from 'prom-client'

export type Verdict = 'accept' | 'ignore' | 'reject'

export interface PlaneOptions {
  name: string
  privateKey: PrivateKey
  listen: string[]
  /**
   * addresses to announce instead of the listen ones (a proxy, a NAT's public address); an empty list
   * announces none (peers then reach this node only through addresses they were given)
   */
  announce?: string[]
  policy: AdmissionPolicy
  evidence: EvidenceSource
  /** the only gossip topics this node will subscribe to, accept or relay */
  topics: string[]
  upgradeTimeoutMs?: number
  /** libp2p's own metrics go here (one registry per plane: both planes register the same names) */
  metricsRegistry?: Registry
  /**
   * inbound connections accepted per second per remote host (default DEFAULT_ACCEPTS_PER_SECOND, 5,
   * libp2p's own default); enforced by pre-admission, whose refusals are reported, not by libp2p
   */
  inboundConnectionThreshold?: number
  /** inbound connections from one host awaiting admission (default DEFAULT_MAX_PENDING_PER_HOST, 4) */
  maxPendingPerHost?: number
  /**
   * inbound connections awaiting admission in all (default DEFAULT_MAX_PENDING_TOTAL, 64); at the cap
   * the oldest pending connection of the host holding the most is aborted to make room
   */
  maxPendingTotal?: number
  /**
   * deadline of each inbound handshake stage: multistream-select, then every read of the attested
   * handshake (default DEFAULT_HANDSHAKE_STAGE_TIMEOUT_MS, 2000); keep it well under upgradeTimeoutMs
   */
  handshakeStageTimeoutMs?: number
  /**
   * Every inbound connection refused or cut off before admission, once each, with `reason`:
   * `rate-limit` (over inboundConnectionThreshold), `pending-per-host` (over maxPendingPerHost),
   * `pending-evicted` (aborted to make room at maxPendingTotal) or `handshake-timeout` (a stage past
   * handshakeStageTimeoutMs), and `host` (IPv4 address or IPv6 /64). Count every event (e.g.
   * `atelier_connection_refusals_total{plane,reason}`); log only those with `logNow` — the first of
   * their host in each 10 s — adding `suppressed`, that host's refusals left unlogged since its last
   * logged one.
   */
  onRefusal?(event: RefusalEvent): void
  onHandshake?(event: HandshakeEvent): void
  now?(): number
}

/**
 * libp2p's own cap on inbound connections in upgrade sits this far above ours: it also counts admitted
 * connections still negotiating their muxer and refused or evicted ones still unwinding, and it must
 * never be the limit that binds (it refuses every newcomer alike, and silently).
 */
const LIBP2P_PENDING_HEADROOM = 64

export interface PlaneServices {
  identify: Identify
  pubsub: GossipSub
  [key: string]: unknown
}

const RESULT: Record<Verdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject
}

/** libp2p's address options for `announce`: as they are, these instead, or none at all. */
function announcing (announce: string[] | undefined): { announce?: string[], announceFilter?(): [] } {
  if (announce == null) { return {} }
  return announce.length > 0 ? { announce } : { announceFilter: () => [] }
}

export class Plane {
  readonly name: string
  readonly node: Libp2p<PlaneServices>
  readonly registry: AdmissionRegistry
  readonly preAdmission: PreAdmission
  readonly #bootstrap = new Map<string, { addr: Multiaddr, attempt: number, timer?: NodeJS.Timeout }>()
  #stopped = false

  private constructor (name: string, node: Libp2p<PlaneServices>, registry: AdmissionRegistry, preAdmission: PreAdmission) {
    this.name = name
    this.node = node
    this.registry = registry
    this.preAdmission = preAdmission
  }

  static async create (o: PlaneOptions): Promise<Plane> {
    const registry = new AdmissionRegistry(o.now)
    const preAdmission = new PreAdmission({
      maxPendingPerHost: o.maxPendingPerHost,
      maxPendingTotal: o.maxPendingTotal,
      acceptsPerSecond: o.inboundConnectionThreshold,
      stageTimeoutMs: o.handshakeStageTimeoutMs,
      onRefusal: o.onRefusal
    })
    const topicScore = {
      topicWeight: 1,
      timeInMeshWeight: 0,
      timeInMeshQuantum: 1000,
      timeInMeshCap: 1,
      firstMessageDeliveriesWeight: 0,
      firstMessageDeliveriesDecay: 0.5,
      firstMessageDeliveriesCap: 1,
      meshMessageDeliveriesWeight: 0,
      meshMessageDeliveriesDecay: 0.5,
      meshMessageDeliveriesCap: 1,
      meshMessageDeliveriesThreshold: 1,
      meshMessageDeliveriesWindow: 10,
      meshMessageDeliveriesActivation: 1000,
      meshFailurePenaltyWeight: 0,
      meshFailurePenaltyDecay: 0.5,
      // a rejected message costs its sender: enough rejects and gossipsub graylists it
      invalidMessageDeliveriesWeight: -100,
      invalidMessageDeliveriesDecay: 0.9
    }
    const node = await createLibp2p<PlaneServices>({
      privateKey: o.privateKey,
      addresses: { listen: o.listen, ...announcing(o.announce) },
      transports: [tcp()],
      connectionEncrypters: [attestedNoise({
        policy: o.policy,
        evidence: o.evidence,
        registry,
        onHandshake: o.onHandshake,
        now: o.now,
        stageTimeoutMs: preAdmission.stageTimeoutMs,
        inbound: preAdmission
      })],
      streamMuxers: [yamux()],
      connectionGater: preAdmission.gater(registry.gater()),
      // preserveExistingMetrics false: @libp2p/prometheus-metrics keeps one module-level map of metrics
      // by name, so with true a process's second plane reused the first's and reported under its label
      ...(o.metricsRegistry != null ? { metrics: prometheusMetrics({ registry: o.metricsRegistry, collectDefaultMetrics: false, preserveExistingMetrics: false }) } : {}),
      connectionManager: {
        inboundUpgradeTimeout: o.upgradeTimeoutMs ?? 10_000,
        maxIncomingPendingConnections: preAdmission.maxPendingTotal + LIBP2P_PENDING_HEADROOM,
        // pre-admission rate-limits per host instead, and reports what it refuses
        inboundConnectionThreshold: Number.MAX_SAFE_INTEGER
      },
      services: {
        identify: identify(),
        pubsub: gossipsub({
          allowedTopics: o.topics,
          allowPublishToZeroTopicPeers: true,
          emitSelf: false,
          globalSignaturePolicy: 'StrictSign',
          scoreParams: { topics: Object.fromEntries(o.topics.map(t => [t, topicScore])) },
          scoreThresholds: { gossipThreshold: -500, publishThreshold: -1000, graylistThreshold: -2500, acceptPXThreshold: 100, opportunisticGraftThreshold: 5 }
        })
      }
    })
    const plane = new Plane(o.name, node, registry, preAdmission)
    registry.onExpire = (peerId) => { void plane.hangUp(peerId) }
    node.addEventListener('peer:disconnect', evt => { plane.#onDisconnect(evt.detail) })
    return plane
  }

  get peerId (): PeerId {
    return this.node.peerId
  }

  get pubsub (): GossipSub {
    return this.node.services.pubsub
  }

  addresses (): Multiaddr[] {
    return this.node.getMultiaddrs()
  }

  /** Installs a gossip validator; its verdict decides delivery, forwarding and the sender's score. */
  validate (topic: string, fn: (source: PeerId, msg: Message) => Verdict | Promise<Verdict>): void {
    this.pubsub.topicValidators.set(topic, async (source, msg) => RESULT[await fn(source, msg)])
  }

  /**
   * A topic's validator and its handler in one: the handler receives the value the validator decoded,
   * for accepted messages only, so nothing is decoded twice. gossipsub hands the validator and the
   * `message` event the same message object, which keys the decoded value until it is handled.
   */
  route<T>(topic: string, check: (source: PeerId, msg: Message) => { verdict: Verdict, value?: T }, handle: (value: T, msg: Message) => void): void {
    const decoded = new WeakMap<Message, T>()
    this.validate(topic, (source, msg) => {
      const r = check(source, msg)
      if (r.verdict === 'accept' && r.value !== undefined) {
        decoded.set(msg, r.value)
      }
      return r.verdict
    })
    this.pubsub.addEventListener('message', evt => {
      if (evt.detail.topic !== topic) { return }
      const value = decoded.get(evt.detail)
      if (value !== undefined) {
        decoded.delete(evt.detail)
        handle(value, evt.detail)
      }
    })
    this.pubsub.subscribe(topic)
  }

  async hangUp (peerId: string): Promise<void> {
    const peer = this.node.getPeers().find(p => p.toString() === peerId)
    if (peer != null) {
      await this.node.hangUp(peer).catch(() => {})
    }
  }

  /** Dials `addr` now and keeps redialling it (backoff up to 30 s) whenever its peer drops. */
  async connect (addr: string | Multiaddr): Promise<void> {
    const ma = typeof addr === 'string' ? multiaddr(addr) : addr
    const peer = ma.getComponents().find(c => c.name === 'p2p')?.value
    if (peer != null) {
      this.#bootstrap.set(peer, { addr: ma, attempt: 0 })
    }
    await this.node.dial(ma)
  }

  /** Adds a bootstrap peer and dials it in the background (errors only schedule a retry). */
  keepConnected (addr: string | Multiaddr): void {
    this.connect(addr).catch(() => {
      const ma = typeof addr === 'string' ? multiaddr(addr) : addr
      const peer = ma.getComponents().find(c => c.name === 'p2p')?.value
      if (peer != null) {
        this.#retry(peer)
      }
    })
  }

  #onDisconnect (peer: PeerId): void {
    if (this.#bootstrap.has(peer.toString())) {
      this.#retry(peer.toString())
    }
  }

  #retry (peer: string): void {
    const entry = this.#bootstrap.get(peer)
    if (entry == null || this.#stopped || entry.timer != null) {
      return
    }
    const delay = Math.min(30_000, 250 * 2 ** Math.min(entry.attempt, 7))
    entry.attempt++
    entry.timer = setTimeout(() => {
      entry.timer = undefined
      if (this.#stopped || this.node.getConnections().some(c => c.remotePeer.toString() === peer)) {
        entry.attempt = 0
        return
      }
      this.node.dial(entry.addr).then(() => { entry.attempt = 0 }, () => { this.#retry(peer) })
    }, delay)
    entry.timer.unref()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    for (const e of this.#bootstrap.values()) {
      clearTimeout(e.timer)
    }
    this.registry.stop()
    this.preAdmission.stop()
    await this.node.stop()
  }
}
