/**
 * Simulation and signing. `parentSimulation` is what the machine calls to simulate a slot's committed
 * inputs, on the parent OpenSlot pins by hash: its header must hash to that hash, and every account,
 * slot, code and ancestor hash the simulation reads is proven against it (src/chain's proven state),
 * so the result carries the post-state root. An answer that does not verify fails the simulation with
 * `parent-state-proof` (counted, logged): this member never signs a body built on unproven state.
 * `SimulateAndSign` runs once a slot's inputs are complete: simulate while the slot's environment is
 * checked against this member's beacon node (environment-check.ts; a departure refuses the slot),
 * sign the candidate's signing root through the signing record (never two roots for one slot), and
 * submit the signed output to the committee.
 *
 * Owns parentSimulation, SimulateAndSign and SimulationHook, the seam through which tests run a
 * faulty image (a divergent member); production code never sets a hook.
 */
import { ParentStateProofError, parentHeaderOf, provenStateSource } from '../../chain/index.ts'
import { simulateSlot } from '../../core/index.ts'
import { DoubleSignError, slotInputsOf } from '../../machine/index.ts'
import { toHex } from '../../proto/index.ts'
import type { CommandBus } from './command-bus.ts'
import type { SlotTable } from './slot-table.ts'
import type { ProvenParentCache } from '../../chain/index.ts'
import type { ForkSchedule, SlotInputs, SlotResult } from '../../core/index.ts'
import type { AtelierMachine, SafeSigner, SlotSpec } from '../../machine/index.ts'
import type { OpenSlotValue } from '../../proto/index.ts'
import type { Logger } from '../log.ts'
import type { SlotPriority } from '../slot-priority.ts'

/** Test-only: how a faulty image alters what it simulates. */
export interface SimulationHook {
  alterInputs?(inputs: SlotInputs): SlotInputs
}

export interface ParentSimulationOptions {
  parents: ProvenParentCache
  /** the chain's fork schedule: each slot runs the fork in force at its timestamp */
  rules(): ForkSchedule
  hook?: SimulationHook
  /** the slot's parent state was opened (warm: from this member's own post-state) */
  onParent?(slot: number, warm: boolean): void
  /** the member's slot work: ingestion waits while a simulation runs */
  priority?: SlotPriority
}

/** The machine's `simulate`: a slot's committed inputs on the parent OpenSlot pinned, proven. */
export function parentSimulation (o: ParentSimulationOptions): (spec: SlotSpec) => Promise<SlotResult> {
  return async spec => {
    const parent = await o.parents.get(`0x${toHex(spec.open.parent)}`)
    o.onParent?.(spec.open.slot, parent.warm)
    if (parent.number !== BigInt(spec.open.parentNumber)) {
      throw new Error(`OpenSlot names block ${toHex(spec.open.parent).slice(0, 16)}… as number ${spec.open.parentNumber}; its header says ${parent.number}`)
    }
    let inputs = slotInputsOf(spec, parentHeaderOf(parent.header))
    if (o.hook?.alterInputs != null) {
      inputs = o.hook.alterInputs(inputs)
    }
    const run = async (): Promise<SlotResult> => simulateSlot(inputs, o.rules(), provenStateSource(parent))
    return o.priority != null ? o.priority.during(run) : run()
  }
}

export interface SimulateAndSignOptions {
  index: number
  machine: AtelierMachine
  signer: SafeSigner
  bus: CommandBus
  table: SlotTable
  log: Logger
  /**
   * The leader's environment against this member's beacon view: a refusal (code and reason) means
   * this member does not sign the slot. Runs beside the simulation, so it costs no latency.
   */
  checkEnvironment(open: OpenSlotValue): Promise<EnvironmentRefusal | undefined>
  /** the parent's state did not verify (the slot is refused): for the operator's metric */
  onParentStateRefused?(code: string): void
  /** the environment check refused the slot: for the operator's metric */
  onEnvironmentRefused?(code: EnvironmentRefusal['code']): void
}

export interface EnvironmentRefusal {
  code: 'payload-attributes-missing' | 'payload-attributes-mismatch'
  message: string
}

export class SimulateAndSign {
  readonly #o: SimulateAndSignOptions

  constructor (options: SimulateAndSignOptions) {
    this.#o = options
  }

  /** Simulates the slot, signs its output and submits it; at most once per slot. */
  async run (slot: number): Promise<void> {
    const { machine, table, log } = this.#o
    const ctx = table.get(slot)
    if (ctx == null || ctx.submitting) { return }
    ctx.submitting = true
    const started = performance.now()
    const spec = machine.slotSpec(slot)
    const environment = spec == null ? Promise.resolve(undefined) : this.#o.checkEnvironment(spec.open)
    let result: SlotResult
    try {
      result = await machine.simulate(slot)
    } catch (err) {
      ctx.submitting = false
      if (err instanceof ParentStateProofError) {
        this.#o.onParentStateRefused?.(err.code)
        log.error('parent-state-refused', { slot, code: err.code, message: err.message })
      } else {
        log.error('simulation-failed', { slot, message: (err as Error).message })
      }
      return
    }
    ctx.simulationMs = performance.now() - started
    // what the block left out and why (the first few): where a transaction that never lands went
    const leftOut = result.excluded.slice(0, 8).map(e => `${e.hash.slice(0, 12)}… ${e.outlook}: ${e.reason}`)
    log.debug('slot-simulated', { slot, ms: Math.round(ctx.simulationMs), txs: result.included.length, ...(leftOut.length > 0 ? { excluded: result.excluded.length, leftOut } : {}) })
    const refusal = await environment
    if (refusal != null) {
      this.#o.onEnvironmentRefused?.(refusal.code)
      log.error('payload-attributes-refused', { slot, code: refusal.code, message: refusal.message })
      return
    }
    if (machine.slotSpec(slot) == null) { return }
    // the output hash this member signs: with a faulty simulation it differs from the honest one
    const { outputHash } = machine.candidateOf(slot, result)
    ctx.simulated = { outputHash, excluded: result.excluded }
    let signature: Uint8Array
    try {
      signature = await this.#o.signer.sign(slot, outputHash)
    } catch (err) {
      log.error(err instanceof DoubleSignError ? 'double-sign-refused' : 'sign-failed', { slot, message: (err as Error).message })
      return
    }
    await this.#o.bus.applyLocal('SubmitSimulation', { slot, memberIndex: this.#o.index, outputHash, gasEstimate: Number(result.gasUsed), signature })
  }
}
