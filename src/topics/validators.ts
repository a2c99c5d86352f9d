/**
 * Gossip validation, Lodestar style: every message gets accept (deliver and forward), ignore (drop
 * quietly) or reject (drop and penalize the sender through gossipsub scoring), with a reason for the
 * log and the `gossip_validation_total` metric. Pure over the context it is given: no I/O.
 */
import {
  blsVerify, candidateSigningRoot, DecodeError, decodeAnyMessage, equalBytes, equivocationFault, peekKind, rosterSigningRoot, toHex,
  verifyCandidate, verifyHintSignature
} from '../proto/index.ts'
import type { Role } from '../enclave/index.ts'
import type {
  CandidateValue, HintBundleValue, MessageKindName, MessageValues, PinnedCommittee, RosterAnnounceValue
} from '../proto/index.ts'

export type GossipVerdict = 'accept' | 'ignore' | 'reject'

export interface ValidationResult<T = unknown> {
  verdict: GossipVerdict
  reason: string
  value?: T
}

const ok = <T>(value: T): ValidationResult<T> => ({ verdict: 'accept', reason: 'ok', value })
const ignore = (reason: string): ValidationResult<never> => ({ verdict: 'ignore', reason })
const reject = (reason: string): ValidationResult<never> => ({ verdict: 'reject', reason })

/** Decodes `bytes` as one of `kinds`; malformed, unknown version, oversize or wrong kind → reject. */
export function decodeFor<K extends MessageKindName> (bytes: Uint8Array, kinds: readonly K[]): ValidationResult<{ kind: K, value: MessageValues[K] }> {
  try {
    const kind = peekKind(bytes)
    if (!(kinds as readonly string[]).includes(kind)) {
      return reject(`wrong topic for ${kind}`)
    }
    return ok(decodeAnyMessage(bytes) as { kind: K, value: MessageValues[K] })
  } catch (err) {
    return reject(err instanceof DecodeError ? `${err.field}: ${err.message}` : `malformed: ${(err as Error).message}`)
  }
}

export interface CandidateTopicContext extends PinnedCommittee {
  /** role of the peer that forwarded the message (from the admission registry) */
  sourceRole: Role | undefined
  /**
   * whether that peer signed the message itself (gossipsub's `from` is the forwarder): a reader
   * relaying a member's candidate is gossipsub working, a reader originating one is not
   */
  originated: boolean
  /** the signing root of the candidate already kept for this slot, if any */
  keptRoot(slot: number): Uint8Array | undefined
}

/**
 * Public `candidates` topic: only members originate, anyone admitted may forward (so a reader in the
 * mesh is never penalised for gossipsub's own relaying), and only candidates that pass `verify` go on.
 */
export function validateCandidate (bytes: Uint8Array, ctx: CandidateTopicContext): ValidationResult<CandidateValue> {
  if (ctx.sourceRole == null || (ctx.originated && ctx.sourceRole !== 'member')) {
    return reject(`a ${ctx.sourceRole ?? 'unadmitted peer'} may not publish candidates`)
  }
  const decoded = decodeFor(bytes, ['Candidate'] as const)
  if (decoded.value == null) {
    return decoded as ValidationResult<never>
  }
  const candidate = decoded.value.value
  const kept = ctx.keptRoot(candidate.slot)
  if (kept != null) {
    // receivers keep the first valid candidate per slot; repeats and late rivals are dropped quietly
    return ignore(equalBytes(kept, candidateSigningRoot(candidate, ctx.domainId)) ? 'duplicate' : 'slot already has a candidate')
  }
  const verdict = verifyCandidate(candidate, ctx)
  if (!verdict.valid) {
    return reject(`candidate fails verify: ${verdict.reason}`)
  }
  return ok(candidate)
}

export interface RosterView {
  /** roster index announced by this private-plane peer id, if any */
  indexOf(peerId: string): number | undefined
}

export interface SlotTopicContext {
  roster: Uint8Array[]
  view: RosterView
  /** the origin (signing) peer of the gossip message */
  origin: string | undefined
  /** why `member` may not open `slot` yet (its turn by rank on the slot clock has not come); undefined if it may */
  notTurnToOpen(slot: number, member: number): string | undefined
  /** `ATELIER_ROOT`: the domain equivocation evidence is signed under */
  domainId: Uint8Array
}

export type SlotMessageKind = 'OpenSlot' | 'AcceptHint' | 'SubmitSimulation' | 'SealCandidate'
export const SLOT_MESSAGE_KINDS: readonly SlotMessageKind[] = ['OpenSlot', 'AcceptHint', 'SubmitSimulation', 'SealCandidate']
/** what the simulations topic carries: the slot commands and equivocation evidence */
export type SimulationsTopicKind = SlotMessageKind | 'Equivocation'

/**
 * Private `simulations` topic: the slot protocol, and equivocation evidence. Simulations only from the
 * peer announced for their roster index; an OpenSlot only from the opener it names, once its turn by
 * rank has come (a second one for a known slot goes to the machine too: a rival opener's costs
 * nothing, the same opener's is evidence); evidence only if it checks out. AcceptHint is bound to its
 * OpenSlot's announced hint ids, so the machine checks it; the machine checks the rest.
 */
export function validateSlotMessage (bytes: Uint8Array, ctx: SlotTopicContext): ValidationResult<{ kind: SimulationsTopicKind, value: MessageValues[SimulationsTopicKind] }> {
  const decoded = decodeFor(bytes, [...SLOT_MESSAGE_KINDS, 'Equivocation'] as const)
  if (decoded.value == null) {
    return decoded as ValidationResult<never>
  }
  const { kind, value } = decoded.value
  const index = ctx.origin == null ? undefined : ctx.view.indexOf(ctx.origin)
  if (index == null) {
    // not announced yet (roster gossip may lag at start-up): not the sender's fault
    return ignore('origin has not announced a roster index')
  }
  if (kind === 'SubmitSimulation') {
    const out = value as MessageValues['SubmitSimulation']
    if (out.memberIndex !== index) {
      return reject(`simulation for member ${out.memberIndex} published by member ${index}`)
    }
    const pk = ctx.roster[out.memberIndex]
    if (pk == null || !blsVerify(pk, out.outputHash, out.signature)) {
      return reject('simulation signature does not verify')
    }
    return decoded
  }
  if (kind === 'Equivocation') {
    const fault = equivocationFault(value as MessageValues['Equivocation'], ctx.roster, ctx.domainId)
    return fault == null ? decoded : reject(`not evidence: ${fault}`)
  }
  if (kind === 'OpenSlot') {
    const open = value as MessageValues['OpenSlot']
    if (open.leaderIndex !== index) {
      return reject(`OpenSlot for slot ${open.slot} naming opener ${open.leaderIndex}, published by member ${index}`)
    }
    const early = ctx.notTurnToOpen(open.slot, index)
    // clocks differ a little between members: not the sender's fault, and not kept
    if (early != null) { return ignore(early) }
  }
  return decoded
}

/**
 * Private `hint` topic: a hint a member accepted from a co-builder, relayed to the others. Its
 * co-builder signature must recover (the machine re-checks it, and the slot rules, on AcceptHint).
 */
export function validateHintMessage (bytes: Uint8Array, domainId: Uint8Array): ValidationResult<HintBundleValue> {
  const decoded = decodeFor(bytes, ['HintBundle'] as const)
  if (decoded.value == null) {
    return decoded as ValidationResult<never>
  }
  if (!verifyHintSignature(decoded.value.value, domainId)) {
    return reject('bad hint signature: it does not recover the co-builder address')
  }
  return ok(decoded.value.value)
}

export type PoolMessage = { kind: 'PoolTransactions', value: MessageValues['PoolTransactions'] } | { kind: 'AuctionBid', value: MessageValues['AuctionBid'] }

/** Private `pool` topic: transactions and auction bids a member took in, relayed to the others. */
export function validatePoolMessage (bytes: Uint8Array): ValidationResult<PoolMessage> {
  return decodeFor(bytes, ['PoolTransactions', 'AuctionBid'] as const) as ValidationResult<PoolMessage>
}

export interface RosterContext {
  roster: Uint8Array[]
  fingerprint: Uint8Array
  /** the private-plane peer id the announcement arrived from (its origin) */
  origin: string | undefined
}

export type RosterCheck = ValidationResult<RosterAnnounceValue> & { mismatch?: string }

/**
 * A roster announcement: signed by the roster key it names, from the peer id it names. A different
 * fingerprint is accepted for the record (so operators see the mismatch) but flagged.
 */
export function validateRosterAnnounce (bytes: Uint8Array, ctx: RosterContext): RosterCheck {
  const decoded = decodeFor(bytes, ['RosterAnnounce'] as const)
  if (decoded.value == null) {
    return decoded as ValidationResult<never>
  }
  const a = decoded.value.value
  const { signature, ...fields } = a
  if (!blsVerify(a.blsPublicKey, rosterSigningRoot(fields, a.fingerprint), signature)) {
    return reject('roster announcement signature does not verify')
  }
  if (ctx.origin != null && ctx.origin !== new TextDecoder().decode(a.privatePeerId)) {
    return reject('roster announcement names another private peer id than its sender')
  }
  const pinned = ctx.roster[a.memberIndex]
  if (!equalBytes(a.fingerprint, ctx.fingerprint)) {
    return { ...ok(a), mismatch: `member ${a.memberIndex} runs config fingerprint ${toHex(a.fingerprint).slice(0, 16)}…, this node ${toHex(ctx.fingerprint).slice(0, 16)}…` }
  }
  if (pinned == null || !equalBytes(pinned, a.blsPublicKey)) {
    return reject(`key announced for member ${a.memberIndex} is not the pinned roster key`)
  }
  return ok(a)
}
