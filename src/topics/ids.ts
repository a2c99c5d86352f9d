/**
 * Every topic and stream id hangs off `ATELIER_ROOT`, which includes the config fingerprint: two nodes
 * with different configs never share a topic.
 */
import { UniqueId } from './unique-id.ts'

/**
 * `ATELIER_ROOT = UniqueId.from(lattice).derive("atelier").derive(fingerprint)`, then
 * `.derive("rules=" + rules)` when the config pins the chain's rules (`Config.rulesTag()`).
 */
export function atelierRoot (lattice: string, fingerprint: UniqueId, rules?: string): UniqueId {
  const root = UniqueId.from(lattice).derive('atelier').derive(fingerprint)
  return rules == null ? root : root.derive(`rules=${rules}`)
}

export interface AtelierTopics {
  root: UniqueId
  candidates: UniqueId
  hint: UniqueId
  private: UniqueId
  simulations: UniqueId
  roster: UniqueId
  /** member-to-member relay of accepted hints, under the private id */
  privateHint: UniqueId
  /** member-to-member relay of unsealed transactions and auction bids, under the private id */
  pool: UniqueId
}

export function atelierTopics (lattice: string, fingerprint: UniqueId, rules?: string): AtelierTopics {
  const root = atelierRoot(lattice, fingerprint, rules)
  const priv = root.derive('private')
  return {
    root,
    candidates: root.derive('candidates'),
    hint: root.derive('hint'),
    private: priv,
    simulations: priv.derive('simulations'),
    roster: priv.derive('roster'),
    privateHint: priv.derive('hint'),
    pool: priv.derive('pool')
  }
}

/** The gossipsub topic string for a named id: `/atelier/<name>/<hex id>`. */
export function topicString (name: string, id: UniqueId): string {
  return `/atelier/${name}/${id.toString()}`
}

export interface GossipTopicNames {
  candidates: string
  simulations: string
  roster: string
  hint: string
  pool: string
}

export function gossipTopicNames (lattice: string, fingerprint: UniqueId, rules?: string): GossipTopicNames {
  const t = atelierTopics(lattice, fingerprint, rules)
  return {
    candidates: topicString('candidates', t.candidates),
    simulations: topicString('simulations', t.simulations),
    roster: topicString('roster', t.roster),
    hint: topicString('hint', t.privateHint),
    pool: topicString('pool', t.pool)
  }
}
