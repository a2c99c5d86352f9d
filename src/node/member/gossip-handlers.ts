/**
 * The member's gossip: for each topic, the pure validator from src/topics (its verdict counted in
 * `atelier_gossip_validation_total`, a rejection logged with its reason) and the handler that takes
 * the value the validator decoded — slot commands to the command bus, hints to the hint book, pool
 * transactions and bids to the pool, candidates to be adopted.
 *
 * Owns installGossip.
 */
import { validateCandidate, validateHintMessage, validatePoolMessage, validateSlotMessage } from '../../topics/index.ts'
import { openTurnAt } from './duties.ts'
import type { SlotClock } from '../../beacon/index.ts'
import type { Config } from '../../config/index.ts'
import type { AtelierMachine } from '../../machine/index.ts'
import type { Plane, RosterService } from '../../p2p/index.ts'
import type { GossipTopicNames, ValidationResult } from '../../topics/index.ts'
import type { BlobStore } from '../blob-store.ts'
import type { InputPool } from '../input-pool.ts'
import type { Logger } from '../log.ts'
import type { NodeMetrics } from '../metrics.ts'
import type { CommandBus, SlotCommandValue } from './command-bus.ts'
import type { EvidenceBook } from './evidence-book.ts'
import type { HintBook } from './hint-book.ts'
import type { SealedCandidates } from './sealed-candidates.ts'
import type { SlotTable } from './slot-table.ts'
import type { MessageValues } from '../../proto/index.ts'

export interface GossipOptions {
  privatePlane: Plane
  publicPlane: Plane
  topics: GossipTopicNames
  config: Config
  roster: RosterService
  machine: AtelierMachine
  table: SlotTable
  bus: CommandBus
  hints: HintBook
  evidence: EvidenceBook
  clock(): SlotClock
  pool: InputPool
  blobs: BlobStore
  candidates: SealedCandidates
  predecode(txs: Uint8Array[]): void
  metrics: NodeMetrics
  log: Logger
}

/** how far another member's clock may run ahead of this one's when it opens a slot on its turn */
export const OPEN_CLOCK_SKEW_MS = 250

export function installGossip (o: GossipOptions): void {
  const { config, topics } = o
  const domainId = config.root().bytes
  const counted = <T>(topic: string, check: ValidationResult<T>): ValidationResult<T> => {
    o.metrics.gossip.inc({ topic, result: check.verdict })
    if (check.verdict === 'reject') { o.log.warn('gossip-rejected', { topic, reason: check.reason }) }
    return check
  }

  o.privatePlane.route(topics.simulations, (_source, msg) => counted('simulations', validateSlotMessage(msg.data, {
    roster: config.roster,
    view: o.roster,
    origin: msg.type === 'signed' ? msg.from.toString() : undefined,
    domainId,
    notTurnToOpen: (slot, member) => {
      const at = openTurnAt(o.clock(), slot, config.committeeSize, member, config.tuning.openTimeoutMs)
      return Date.now() + OPEN_CLOCK_SKEW_MS < at ? `member ${member}'s turn to open slot ${slot} comes in ${at - Date.now()} ms` : undefined
    }
  })), ({ kind, value }) => {
    if (kind === 'Equivocation') {
      void o.evidence.record(value as MessageValues['Equivocation'], 'gossip')
    } else {
      void o.bus.applyRemote(kind, value as SlotCommandValue)
    }
  })

  o.privatePlane.route(topics.hint, (_source, msg) => counted('hint', validateHintMessage(msg.data, domainId)), hint => {
    o.hints.add(hint)
  })

  o.privatePlane.route(topics.pool, (_source, msg) => counted('pool', validatePoolMessage(msg.data)), m => {
    if (m.kind === 'PoolTransactions') {
      // the relaying member checked them by KZG as it took them in (the proposer checks the bundle again)
      o.blobs.add(m.value.sidecars)
      o.predecode(m.value.txs)
      o.pool.addTransactions(m.value.txs)
    } else {
      o.predecode(m.value.bundle.txs)
      o.pool.addBid(m.value)
    }
  })

  o.publicPlane.route(topics.candidates, (source, msg) => counted('candidates', validateCandidate(msg.data, {
    roster: config.roster,
    domainId,
    sourceRole: o.publicPlane.registry.roleOf(source),
    originated: msg.type === 'signed' && msg.from.equals(source),
    keptRoot: slot => o.candidates.keptRoot(slot)
  })), candidate => { void o.candidates.adopt(candidate) })
}
