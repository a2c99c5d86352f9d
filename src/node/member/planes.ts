/**
 * The member's two attested planes and its roster gossip: the private plane (members only: slot
 * commands, simulations, roster, hint and pool relay) and the public plane (members, co-builders and
 * readers: the candidates topic, the hint and sync streams), both admitting through the config's
 * policy, with admissions and refusals counted per plane; roster gossip finds the other members'
 * planes and keeps them connected.
 *
 * Owns startPlanes.
 */
import { MemberEvidenceSource, Plane, policyFromConfig, RosterService, verifierFromConfig } from '../../p2p/index.ts'
import type { Config } from '../../config/index.ts'
import type { MemberKeys, QuoteProvider } from '../../enclave/index.ts'
import type { HandshakeEvent, RefusalEvent } from '../../p2p/index.ts'
import type { GossipTopicNames } from '../../topics/index.ts'
import type { Logger } from '../log.ts'
import type { NodeMetrics } from '../metrics.ts'

export interface PlanesOptions {
  config: Config
  keys: MemberKeys
  index: number
  quoteProvider: QuoteProvider
  operatorTickets: { private: string, public: string }
  listenPrivate?: string[]
  /** private-plane addresses announced instead of the listen ones (roster announcements, identify) */
  announcePrivate?: string[]
  listenPublic?: string[]
  topics: GossipTopicNames
  metrics: NodeMetrics
  log: Logger
}

function withPeer (addr: string, peerId: string): string {
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${peerId}`
}

export async function startPlanes (o: PlanesOptions): Promise<{ privatePlane: Plane, publicPlane: Plane, roster: RosterService }> {
  const { config, metrics, log, topics } = o
  const verifier = verifierFromConfig(config)
  const onHandshake = (plane: string) => (e: HandshakeEvent) => {
    if (e.outcome === 'admitted') {
      metrics.admissions.inc({ plane, role: e.role })
      log.debug('peer-admitted', { plane, peer: e.remotePeer, role: e.role, direction: e.direction })
    } else if (e.outcome === 'rejected') {
      metrics.rejections.inc({ plane, reason: e.reason ?? 'unknown' })
      log.warn('peer-rejected', { plane, peer: e.remotePeer, reason: e.reason, detail: e.message })
    } else {
      log.debug('handshake-failed', { plane, peer: e.remotePeer, outcome: e.outcome, reason: e.reason })
    }
  }
  const onRefusal = (plane: string) => (e: RefusalEvent) => {
    metrics.connectionRefusals.inc({ plane, reason: e.reason })
    // once per host per interval: a flood is one line, with how many it stands for
    if (e.logNow) { log.warn('connection-refused', { plane, host: e.host, reason: e.reason, suppressedSinceLast: e.suppressed }) }
  }
  const limits = {
    upgradeTimeoutMs: config.tuning.upgradeTimeoutMs,
    maxPendingPerHost: config.tuning.maxPendingPerHost,
    maxPendingTotal: config.tuning.maxPendingTotal,
    handshakeStageTimeoutMs: config.tuning.handshakeStageTimeoutMs,
    inboundConnectionThreshold: config.tuning.inboundConnectionsPerSecond
  }
  const privatePlane = await Plane.create({
    name: 'private',
    privateKey: o.keys.privatePlane,
    listen: o.listenPrivate ?? ['/ip4/127.0.0.1/tcp/0'],
    announce: o.announcePrivate,
    policy: policyFromConfig(config, ['member'], verifier),
    evidence: new MemberEvidenceSource(o.quoteProvider, o.operatorTickets.private),
    topics: [topics.simulations, topics.roster, topics.hint, topics.pool],
    ...limits,
    metricsRegistry: metrics.planeRegistry('private'),
    onHandshake: onHandshake('private'),
    onRefusal: onRefusal('private')
  })
  let publicPlane: Plane
  try {
    publicPlane = await Plane.create({
      name: 'public',
      privateKey: o.keys.publicPlane,
      listen: o.listenPublic ?? ['/ip4/127.0.0.1/tcp/0'],
      policy: policyFromConfig(config, ['member', 'cobuilder', 'reader'], verifier),
      evidence: new MemberEvidenceSource(o.quoteProvider, o.operatorTickets.public),
      topics: [topics.candidates],
      ...limits,
      metricsRegistry: metrics.planeRegistry('public'),
      onHandshake: onHandshake('public'),
      onRefusal: onRefusal('public')
    })
  } catch (err) {
    await privatePlane.stop().catch(() => {})
    throw err
  }
  const roster = new RosterService({
    privatePlane,
    publicPlane,
    topic: topics.roster,
    roster: config.roster,
    fingerprint: config.signature().bytes,
    memberIndex: o.index,
    blsSecretKey: o.keys.bls.secretKey,
    intervalMs: config.tuning.rosterAnnounceMs,
    onMismatch: (reason) => {
      metrics.rosterMismatch.inc()
      log.warn('roster-mismatch', { reason })
    },
    onEntry: (entry, isNew) => {
      if (isNew && entry.memberIndex !== o.index) {
        log.info('member-found', { index: entry.memberIndex, private: entry.privatePeerId, public: entry.publicPeerId })
        for (const a of entry.privateAddrs) { privatePlane.keepConnected(withPeer(a, entry.privatePeerId)) }
        for (const a of entry.publicAddrs) { publicPlane.keepConnected(withPeer(a, entry.publicPeerId)) }
      }
    },
    onInvalid: reason => { log.debug('roster-invalid', { reason }) }
  })
  return { privatePlane, publicPlane, roster }
}
