/**
 * AtelierMachine: the committee's replicated state machine. State changes only through `apply`;
 * members that apply the same command sequence hold byte-identical candidates.
 *
 * Commands apply synchronously, in call order. The one wait, a SealCandidate's need for the slot's own
 * simulation (parent state over RPC, which can stall for retries), is awaited by that slot alone: the
 * seals of one slot are judged in order after it, while every other slot's commands go on.
 *
 * Invariants (each has its own test): one candidate per slot; the body is a deterministic function of
 * the committed inputs (OpenSlot + AcceptHints, simulated by src/core); a minority output never seals;
 * every output that differs from the agreed one counts in `divergenceTotal`.
 */
import {
  blsAggregate, blsVerify, candidateSigningRoot, equalBytes, hintId, openSlotEquivocation, openSlotInputsRoot, openSlotSigningRoot,
  simulationEquivocation, toHex, verifyHintSignature
} from '../proto/index.ts'
import { accepted, rejected } from './commands.ts'
import type { Agreement, ApplyResult, Command, Query, QueryResult } from './commands.ts'
import type { SlotResult } from '../core/index.ts'
import type {
  CandidateValue, EquivocationValue, HintAcceptValue, OpenSlotValue, SealCommitValue, SimOutputValue
} from '../proto/index.ts'

/** Everything a slot's simulation depends on, as committed through commands. */
export interface SlotSpec {
  open: OpenSlotValue
  hints: HintAcceptValue[]
}

export interface MachineOptions {
  /** the pinned committee's BLS keys, roster order */
  roster: Uint8Array[]
  /** `config.root()` bytes (`ATELIER_ROOT`): the signing domain of candidates and hints */
  domainId: Uint8Array
  /** co-builder addresses allowed to hint; undefined = any co-builder admitted by the network */
  coBuilderAcl?: Uint8Array[]
  /** deterministic simulation of a slot's committed inputs (src/core over the pinned chain) */
  simulate(spec: SlotSpec): Promise<SlotResult>
  /** called for every divergent output, for the operator's `simulation_divergence_total` */
  onDivergence?(slot: number, memberIndex: number): void
  /** called once per equivocation this machine sees (two signed OpenSlots or outputs by one member for a slot) */
  onEquivocation?(evidence: EquivocationValue): void
}

/** done slots remembered one by one; below the oldest of them every slot counts as done */
export const DONE_REMEMBERED = 4096

interface SlotState {
  open: OpenSlotValue
  hints: HintAcceptValue[]
  hintIds: Set<string>
  outputs: Map<number, SimOutputValue>
  /** members whose signatures for this slot are out: evidence shows they equivocated */
  excluded: Set<number>
  agreed?: Uint8Array
  candidate?: CandidateValue
  /** the slot's seals in flight, judged one after the other */
  seals?: Promise<unknown>
}

export class AtelierMachine {
  readonly #o: MachineOptions
  readonly #slots = new Map<number, SlotState>()
  readonly #done = new Set<number>()
  /** every slot at or below this one is done (the remembered set is bounded) */
  #doneFloor = -1
  readonly #results = new Map<string, Promise<SlotResult>>()
  divergenceTotal = 0
  equivocationTotal = 0

  constructor (options: MachineOptions) {
    this.#o = options
  }

  get committeeSize (): number {
    return this.#o.roster.length
  }

  /**
   * Applies one command, in call order: its effect on the machine's state is decided before this
   * returns, except a SealCandidate's, which settles once the slot's simulation has.
   */
  async apply (command: Command): Promise<ApplyResult> {
    return this.#apply(command)
  }

  query<Q extends Query>(q: Q): QueryResult<Q> {
    switch (q.type) {
      case 'OpenSlots':
        return [...this.#slots.keys()].sort((a, b) => a - b) as QueryResult<Q>
      case 'HintsFor':
        return [...(this.#slots.get(q.slot)?.hints ?? [])] as QueryResult<Q>
      case 'SimulationAgreement':
        return this.#agreement(q.slot) as QueryResult<Q>
      case 'CandidateFor':
        return this.#slots.get(q.slot)?.candidate as QueryResult<Q>
      default:
        throw new Error('unknown query')
    }
  }

  /** The committed inputs of an open slot. */
  slotSpec (slot: number): SlotSpec | undefined {
    const s = this.#slots.get(slot)
    return s == null ? undefined : { open: s.open, hints: [...s.hints] }
  }

  /** True once the slot's OpenSlot and all the hints it announced are applied. */
  inputsComplete (slot: number): boolean {
    const s = this.#slots.get(slot)
    return s != null && s.hints.length === s.open.hintIds.length
  }

  /** Simulates the slot's committed inputs (memoized); only once they are complete. */
  async simulate (slot: number): Promise<SlotResult> {
    const spec = this.slotSpec(slot)
    if (spec == null || !this.inputsComplete(slot)) {
      throw new Error(`slot ${slot} is not open with complete inputs`)
    }
    const key = `${slot}`
    let p = this.#results.get(key)
    if (p == null) {
      p = this.#o.simulate(spec)
      this.#results.set(key, p)
      p.catch(() => { this.#results.delete(key) })
    }
    return p
  }

  /** The unsigned candidate a simulation result stands for, and its signing root (= output hash). */
  candidateOf (slot: number, result: SlotResult): { candidate: CandidateValue, outputHash: Uint8Array } {
    const s = this.#slots.get(slot)
    if (s == null) {
      throw new Error(`slot ${slot} is not open`)
    }
    const candidate: CandidateValue = {
      slot,
      header: result.header,
      body: result.body,
      withdrawals: result.withdrawals,
      executionRequests: result.executionRequests,
      blockValue: result.blockValue,
      hintsApplied: result.hintsApplied,
      builderSig: new Uint8Array(96),
      committeeRoster: []
    }
    return { candidate, outputHash: candidateSigningRoot(candidate, this.#o.domainId) }
  }

  #apply (command: Command): ApplyResult | Promise<ApplyResult> {
    switch (command.type) {
      case 'OpenSlot': return this.#openSlot(command.value)
      case 'AcceptHint': return this.#acceptHint(command.value)
      case 'SubmitSimulation': return this.#submitSimulation(command.value)
      case 'SealCandidate': return this.#seal(command.value)
      case 'MarkDone': return this.#markDone(command.value.slot)
      default: return rejected('malformed', 'unknown command')
    }
  }

  /**
   * The first valid OpenSlot per slot is kept, whoever opened it (which member's turn it is, by rank
   * on the slot clock, is judged where commands arrive, not here: replay has no clock). A second one
   * by the same opener with other inputs is equivocation.
   */
  #openSlot (open: OpenSlotValue): ApplyResult {
    if (this.#isDone(open.slot)) {
      return rejected('slot-done', `slot ${open.slot} was already garbage-collected`)
    }
    const pk = this.#o.roster[open.leaderIndex]
    if (pk == null) {
      return rejected('unknown-member', `opener index ${open.leaderIndex} is outside the roster of ${this.committeeSize}`)
    }
    if (!blsVerify(pk, openSlotSigningRoot(open, this.#o.domainId), open.signature)) {
      return rejected('bad-open-signature', `the OpenSlot for slot ${open.slot} is not signed by its opener, member ${open.leaderIndex}`)
    }
    const kept = this.#slots.get(open.slot)
    if (kept != null) {
      if (kept.open.leaderIndex === open.leaderIndex && !equalBytes(openSlotInputsRoot(kept.open), openSlotInputsRoot(open))) {
        this.#equivocated(openSlotEquivocation(kept.open, open))
        return rejected('equivocation', `member ${open.leaderIndex} signed a second, different OpenSlot for slot ${open.slot}`)
      }
      return rejected('slot-exists', `slot ${open.slot} is already open (by member ${kept.open.leaderIndex})`)
    }
    this.#slots.set(open.slot, { open, hints: [], hintIds: new Set(), outputs: new Map(), excluded: new Set() })
    return accepted
  }

  /** Evidence shows `member` equivocated in `slot`: its signatures there are out, recorded or to come. */
  exclude (slot: number, member: number): void {
    const s = this.#slots.get(slot)
    if (s == null || s.excluded.has(member)) { return }
    s.excluded.add(member)
    s.outputs.delete(member)
    if (s.candidate == null) { s.agreed = this.#agreement(slot)?.outputHash }
  }

  /** Evidence this machine found: counted, reported, and the member's signatures for the slot out. */
  #equivocated (evidence: EquivocationValue): void {
    this.equivocationTotal++
    this.exclude(evidence.slot, evidence.member)
    this.#o.onEquivocation?.(evidence)
  }

  #isDone (slot: number): boolean {
    return slot <= this.#doneFloor || this.#done.has(slot)
  }

  #acceptHint (accept: HintAcceptValue): ApplyResult {
    const s = this.#slots.get(accept.slot)
    if (s == null) {
      return rejected('slot-not-open', `slot ${accept.slot} is not open`)
    }
    if (s.candidate != null) {
      return rejected('slot-sealed', `slot ${accept.slot} is sealed`)
    }
    if (accept.hint.slot !== accept.slot) {
      return rejected('hint-slot-mismatch', `hint is for slot ${accept.hint.slot}, not ${accept.slot}`)
    }
    if (accept.sequence !== s.hints.length || accept.sequence >= s.open.hintIds.length) {
      return rejected('hint-sequence', `hint sequence ${accept.sequence}, expected ${s.hints.length} of ${s.open.hintIds.length}`)
    }
    const acl = this.#o.coBuilderAcl
    if (acl != null && !acl.some(a => equalBytes(a, accept.hint.coBuilder))) {
      return rejected('cobuilder-not-allowed', `co-builder 0x${toHex(accept.hint.coBuilder)} is not in the acl`)
    }
    if (!verifyHintSignature(accept.hint, this.#o.domainId)) {
      return rejected('bad-hint-signature', `hint signature does not recover co-builder 0x${toHex(accept.hint.coBuilder)}`)
    }
    const id = toHex(hintId(accept.hint))
    if (id !== toHex(s.open.hintIds[accept.sequence])) {
      return rejected('hint-not-announced', `hint ${id.slice(0, 16)}… is not the one the OpenSlot announced at position ${accept.sequence}`)
    }
    if (s.hintIds.has(id)) {
      return rejected('hint-duplicate', `hint ${id.slice(0, 16)}… already accepted`)
    }
    s.hintIds.add(id)
    s.hints.push(accept)
    return accepted
  }

  #submitSimulation (out: SimOutputValue): ApplyResult {
    const s = this.#slots.get(out.slot)
    if (s == null) {
      return rejected(this.#isDone(out.slot) ? 'slot-done' : 'slot-not-open', `slot ${out.slot} is not open`)
    }
    if (s.candidate != null) {
      return rejected('slot-sealed', `slot ${out.slot} is sealed`)
    }
    if (s.excluded.has(out.memberIndex)) {
      return rejected('excluded', `member ${out.memberIndex} equivocated in slot ${out.slot}: its signatures there are out`)
    }
    const pk = this.#o.roster[out.memberIndex]
    if (pk == null) {
      return rejected('unknown-member', `member index ${out.memberIndex} is outside the roster of ${this.committeeSize}`)
    }
    if (!blsVerify(pk, out.outputHash, out.signature)) {
      return rejected('bad-simulation-signature', `member ${out.memberIndex}'s signature does not verify over its output hash`)
    }
    const previous = s.outputs.get(out.memberIndex)
    if (previous != null) {
      if (equalBytes(previous.outputHash, out.outputHash)) {
        return rejected('duplicate-simulation', `member ${out.memberIndex} already submitted this output`)
      }
      this.#equivocated(simulationEquivocation(previous, out))
      return rejected('equivocation', `member ${out.memberIndex} submitted a second, different output for slot ${out.slot}`)
    }
    s.outputs.set(out.memberIndex, out)
    if (s.agreed != null) {
      if (!equalBytes(s.agreed, out.outputHash)) {
        this.#diverged(out.slot, out.memberIndex)
      }
      return accepted
    }
    const agreement = this.#agreement(out.slot)
    if (agreement?.outputHash != null) {
      s.agreed = agreement.outputHash
      for (const [index, o] of s.outputs) {
        if (!equalBytes(o.outputHash, agreement.outputHash)) {
          this.#diverged(out.slot, index)
        }
      }
    }
    return accepted
  }

  #diverged (slot: number, memberIndex: number): void {
    this.divergenceTotal++
    this.#o.onDivergence?.(slot, memberIndex)
  }

  async #seal (commit: SealCommitValue): Promise<ApplyResult> {
    const s = this.#slots.get(commit.slot)
    if (s == null) {
      return rejected(this.#isDone(commit.slot) ? 'slot-done' : 'slot-not-open', `slot ${commit.slot} is not open`)
    }
    const invalid = this.#checkSeal(s, commit)
    if (invalid != null) {
      return invalid
    }
    // judged after the slot's earlier seals (the first one that holds wins), off every other slot's path
    const judged = (s.seals ?? Promise.resolve()).then(async () => this.#judgeSeal(s, commit))
    s.seals = judged.catch(() => {})
    return judged
  }

  /** What can be told about a SealCandidate without the slot's simulation. */
  #checkSeal (s: SlotState, commit: SealCommitValue): ApplyResult | undefined {
    if (s.candidate != null) {
      return rejected('already-sealed', `slot ${commit.slot} already has a candidate`)
    }
    const n = this.committeeSize
    if (commit.signers.length * 2 <= n) {
      return rejected('no-agreement', `${commit.signers.length} of ${n} is not a strict majority`)
    }
    for (let i = 0; i < commit.signers.length; i++) {
      const index = commit.signers[i]
      if (i > 0 && index <= commit.signers[i - 1]) {
        return rejected('bad-signer-set', 'signer indices must be strictly ascending')
      }
      const out = s.outputs.get(index)
      if (out == null || !equalBytes(out.outputHash, commit.outputHash)) {
        return rejected('bad-signer-set', `member ${index} has no recorded output with the sealed hash`)
      }
    }
    if (!this.inputsComplete(commit.slot)) {
      return rejected('slot-not-open', `slot ${commit.slot} still waits for ${s.open.hintIds.length - s.hints.length} announced hints`)
    }
    return undefined
  }

  async #judgeSeal (s: SlotState, commit: SealCommitValue): Promise<ApplyResult> {
    if (this.#slots.get(commit.slot) !== s) {
      return rejected('slot-done', `slot ${commit.slot} was garbage-collected before its seal was judged`)
    }
    let result: SlotResult
    try {
      result = await this.simulate(commit.slot)
    } catch (err) {
      return rejected('simulation-failed', `slot ${commit.slot} could not be simulated: ${(err as Error).message}`)
    }
    if (this.#slots.get(commit.slot) !== s) {
      return rejected('slot-done', `slot ${commit.slot} was garbage-collected while it simulated`)
    }
    if (s.candidate != null) {
      return rejected('already-sealed', `slot ${commit.slot} already has a candidate`)
    }
    const { candidate, outputHash } = this.candidateOf(commit.slot, result)
    if (!equalBytes(outputHash, commit.outputHash)) {
      return rejected('local-divergence', `this member's simulation of slot ${commit.slot} differs from the sealed output`)
    }
    const outputs = commit.signers.map(i => s.outputs.get(i) as SimOutputValue)
    s.candidate = {
      ...candidate,
      builderSig: blsAggregate(outputs.map(o => o.signature)),
      committeeRoster: commit.signers.map(i => this.#o.roster[i])
    }
    return accepted
  }

  #markDone (slot: number): ApplyResult {
    if (this.#isDone(slot)) {
      return rejected('slot-done', `slot ${slot} is already done`)
    }
    this.#slots.delete(slot)
    this.#results.delete(`${slot}`)
    this.#done.add(slot)
    if (this.#done.size > DONE_REMEMBERED) {
      // bounded: the oldest remembered slot goes, and every slot up to it counts as done
      const oldest = Math.min(...this.#done)
      this.#done.delete(oldest)
      this.#doneFloor = Math.max(this.#doneFloor, oldest)
    }
    return accepted
  }

  #agreement (slot: number): Agreement | undefined {
    const s = this.#slots.get(slot)
    if (s == null) {
      return undefined
    }
    const tallies = new Map<string, { outputHash: Uint8Array, members: number[] }>()
    for (const [index, o] of s.outputs) {
      const key = toHex(o.outputHash)
      const t = tallies.get(key) ?? { outputHash: o.outputHash, members: [] }
      t.members.push(index)
      tallies.set(key, t)
    }
    const list = [...tallies.values()].map(t => ({ ...t, members: t.members.sort((a, b) => a - b) }))
      .sort((a, b) => b.members.length - a.members.length || toHex(a.outputHash).localeCompare(toHex(b.outputHash)))
    const top = list[0]
    const agreed = top != null && top.members.length * 2 > this.committeeSize ? top : undefined
    return { outputHash: agreed?.outputHash, members: agreed?.members ?? [], tallies: list }
  }
}
