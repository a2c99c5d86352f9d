/**
 * Simulation and signing. `parentSimulation` is what the machine calls to simulate a slot's committed
 * inputs: the parent block is read from the pinned RPC and must be the one OpenSlot named, then src/core
 * runs the inputs on that parent's state. `SimulateAndSign` runs once a slot's inputs are complete:
 * simulate, sign the candidate's signing root through the signing record (never two roots for one
 * slot), and submit the signed output to the committee.
 *
 * Owns parentSimulation, SimulateAndSign and SimulationHook, the seam through which tests run a
 * faulty image (a divergent member); production code never sets a hook.
 */
import { hexToBytes } from '@ethereumjs/util'
import { parentHeaderOf, rpcStateSource } from '../../chain/index.ts'
import { simulateSlot } from '../../core/index.ts'
import { DoubleSignError, slotInputsOf } from '../../machine/index.ts'
import { toHex } from '../../proto/index.ts'
import type { ChainInfo, ChainRpc, ParentStateCache, RpcBlock } from '../../chain/index.ts'
import type { SlotInputs, SlotResult } from '../../core/index.ts'
import type { AtelierMachine, SafeSigner, SlotSpec } from '../../machine/index.ts'
import type { Logger } from '../log.ts'
import type { CommandBus } from './command-bus.ts'
import type { SlotTable } from './slot-table.ts'

/** Test-only: how a faulty image alters what it simulates. */
export interface SimulationHook {
  alterInputs?(inputs: SlotInputs): SlotInputs
}

export interface ParentSimulationOptions {
  rpc: ChainRpc
  parents: ParentStateCache
  chainInfo(): ChainInfo
  hook?: SimulationHook
}

/** The machine's `simulate`: a slot's committed inputs on the parent OpenSlot pinned. */
export function parentSimulation (o: ParentSimulationOptions): (spec: SlotSpec) => Promise<SlotResult> {
  return async spec => {
    const block = await o.rpc.call<RpcBlock | null>('eth_getBlockByNumber', [`0x${spec.open.parentNumber.toString(16)}`, false])
    if (block == null || toHex(hexToBytes(block.hash as `0x${string}`)) !== toHex(spec.open.parent)) {
      throw new Error(`parent ${spec.open.parentNumber} on the chain is not ${toHex(spec.open.parent).slice(0, 16)}… (reorg or another chain)`)
    }
    let inputs = slotInputsOf(spec, parentHeaderOf(block))
    if (o.hook?.alterInputs != null) {
      inputs = o.hook.alterInputs(inputs)
    }
    return simulateSlot(inputs, o.chainInfo(), rpcStateSource(o.parents.get(BigInt(spec.open.parentNumber))))
  }
}

export interface SimulateAndSignOptions {
  index: number
  machine: AtelierMachine
  signer: SafeSigner
  bus: CommandBus
  table: SlotTable
  log: Logger
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
    let result: SlotResult
    try {
      result = await machine.simulate(slot)
    } catch (err) {
      ctx.submitting = false
      log.error('simulation-failed', { slot, message: (err as Error).message })
      return
    }
    ctx.simulationMs = performance.now() - started
    log.debug('slot-simulated', { slot, ms: Math.round(ctx.simulationMs), txs: result.included.length })
    if (machine.slotSpec(slot) == null) { return }
    // the output hash this member signs: with a faulty simulation it differs from the honest one
    const { outputHash } = machine.candidateOf(slot, result)
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
