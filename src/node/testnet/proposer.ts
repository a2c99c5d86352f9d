/**
 * The testnet's proposer: the consensus layer's other half (beacon-source.ts is the first). Per slot
 * it announces the payload attributes on the chain's head, waits for the committee's verified
 * candidate until the proposal deadline — the slot's start, one slot after the announcement, which is
 * after the first takeover (`leaderTimeoutMs` is 0.6 of a slot in the testnet's config) — and makes
 * it the chain's next block: anvil (no mining of its own) is given exactly the candidate's
 * transactions, in order (`--order fifo`), its timestamp, fee recipient and base fee, then mines.
 * The block is checked against the candidate (second-evm.ts). A slot without a candidate by the
 * deadline gets a block from anvil itself, as a proposer falls back to its own execution client.
 * A candidate with blob transactions is only proposed with its blobs: the proposer fetches the
 * bundle from a member, checks it by KZG against the body, and hands anvil those transactions in
 * their network form (as a consensus client would publish the sidecars); no good bundle, no
 * proposal — the slot falls back.
 *
 * anvil cannot be told `prevRandao` (it draws a random `mixHash`), `extraData` or
 * `parentBeaconBlockRoot` (zero): the chain's block differs from the candidate's in those fields and
 * hence in its hash; the second-EVM check substitutes them and proves every other field equal.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { slotBoundaryOf } from '../../chain/index.ts'
import { candidateVersionedHashes, keccak256, networkFormOf, sidecarsOf, toHex, blobVersionedHashes } from '../../proto/index.ts'
import { silentLogger } from '../log.ts'
import { secondEvmCheck } from './second-evm.ts'
import type { BeaconEventSource } from './beacon-source.ts'
import type { SlotEnvironment } from '../../beacon/index.ts'
import type { ChainRpc, RpcBlock } from '../../chain/index.ts'
import type { BlobsBundleValue, CandidateValue } from '../../proto/index.ts'
import type { Logger } from '../log.ts'
import type { ChainBlock, SecondEvmVerdict } from './second-evm.ts'

export interface ProposerOptions {
  /** the chain it drives: anvil without mining of its own */
  rpc: ChainRpc
  source: BeaconEventSource
  /** the verified candidate for `slot` on `parentHash`, waited for until `deadline` (unix ms) at most */
  candidate(slot: number, parentHash: string, deadline: number): Promise<CandidateValue | undefined>
  /** the candidate's blobs, checked against its body (by KZG); throws with the reason when none are to be had */
  blobs(c: CandidateValue): Promise<BlobsBundleValue>
  log?: Logger
  onBlock?(block: ProposedBlock): void
}

export interface ProposedBlock {
  slot: number
  number: number
  hash: string
  from: 'committee' | 'fallback'
  /** the chain's block, as eth_getBlockByNumber gives it */
  chainBlock: ChainBlock
  candidate?: CandidateValue
  verdict?: SecondEvmVerdict
  /** a transaction of the candidate's the chain refused (then the check fails too) */
  refused?: string[]
  /** blobs proposed with the block (their bundle checked by KZG) */
  blobs?: number
  /** the bundle itself, when there were blobs */
  bundle?: BlobsBundleValue
}

const hex = (b: Uint8Array): string => `0x${toHex(b)}`

export class Proposer {
  readonly #o: ProposerOptions
  readonly #log: Logger
  readonly #abort = new AbortController()
  readonly blocks: ProposedBlock[] = []
  proposed = 0
  fallbacks = 0
  mismatches = 0
  stateRootsDiffer = 0
  /** blobs proposed, each checked by KZG against its candidate's body */
  blobsVerified = 0
  /** candidates not proposed for want of a good blobs bundle */
  blobsUnavailable = 0
  #loop?: Promise<void>
  /** the block this proposer just put on chain: the next slot's parent, without asking again */
  #head?: RpcBlock

  constructor (options: ProposerOptions) {
    this.#o = options
    this.#log = options.log ?? silentLogger
  }

  start (): void {
    this.#loop ??= this.#run()
  }

  async stop (): Promise<void> {
    this.#abort.abort()
    await this.#loop
  }

  async #run (): Promise<void> {
    let failing: string | undefined
    while (!this.#abort.signal.aborted) {
      try {
        await this.#slot()
        failing = undefined
      } catch (err) {
        this.#head = undefined
        // the chain did not answer: logged once per outage, the next slot tried after a pause
        if (failing !== (err as Error).message && !this.#abort.signal.aborted) {
          failing = (err as Error).message
          this.#log.error('proposer-chain-error', { message: failing })
        }
        await sleep(500, undefined, { signal: this.#abort.signal }).catch(() => {})
      }
    }
  }

  /** One slot: announce, wait for the candidate until the deadline, put a block on chain. */
  async #slot (): Promise<void> {
    const { rpc, source } = this.#o
    const head = this.#head ?? await rpc.call<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    const boundary = slotBoundaryOf(head)
    const clock = source.clock
    const slot = Math.max(clock.current() + 1, clock.slotAfter(boundary.timestamp))
    const env = source.environmentAfter(boundary, slot)
    source.announce(env)
    const deadline = clock.timestampOf(slot) * 1000
    const candidate = await this.#o.candidate(slot, head.hash, deadline)
    // the blobs are fetched and checked while the slot runs out, not after its deadline
    const bundle = candidate != null ? await this.#bundle(candidate, env.slot) : undefined
    const wait = deadline - Date.now()
    if (wait > 0) { await sleep(wait, undefined, { signal: this.#abort.signal }).catch(() => {}) }
    if (this.#abort.signal.aborted) { return }
    const block = candidate != null && bundle != null ? await this.#include(candidate, env, bundle) : await this.#fallback(env)
    this.blocks.push(block)
    this.#o.onBlock?.(block)
  }

  /** The block just mined, which is also the next slot's parent. */
  async #mined (): Promise<ChainBlock> {
    const block = await this.#o.rpc.call<ChainBlock & RpcBlock>('eth_getBlockByNumber', ['latest', false])
    this.#head = block
    return block
  }

  /** The candidate's blobs, checked; undefined (logged) when there are none to be had. */
  async #bundle (c: CandidateValue, slot: number): Promise<BlobsBundleValue | undefined> {
    if (candidateVersionedHashes(c).length === 0) { return { commitments: [], proofs: [], blobs: [] } }
    try {
      return await this.#o.blobs(c)
    } catch (err) {
      this.blobsUnavailable++
      this.#log.error('blobs-unavailable', { slot, message: (err as Error).message })
      return undefined
    }
  }

  /** The candidate becomes the chain's next block; then the second-EVM check. */
  async #include (c: CandidateValue, env: SlotEnvironment, bundle: BlobsBundleValue): Promise<ProposedBlock> {
    const { rpc } = this.#o
    const refused: string[] = []
    const sidecars = sidecarsOf(bundle)
    // a blob transaction goes to the chain with its sidecars, in the bundle's order
    const sent = c.body.map(raw => {
      const n = blobVersionedHashes(raw).length
      return n === 0 ? raw : networkFormOf(raw, sidecars.splice(0, n))
    })
    // one at a time: anvil's FIFO order is the order the transactions arrive in
    for (const raw of sent) {
      try {
        await rpc.call('eth_sendRawTransaction', [hex(raw)])
      } catch (err) {
        refused.push(`${hex(keccak256(raw)).slice(0, 18)}…: ${(err as Error).message}`)
      }
    }
    await rpc.call('evm_setNextBlockTimestamp', [Number(c.header.timestamp)])
    await rpc.call('anvil_setCoinbase', [hex(c.header.feeRecipient)])
    await rpc.call('anvil_setNextBlockBaseFeePerGas', [`0x${c.header.baseFeePerGas.toString(16)}`])
    await rpc.call('evm_mine')
    const block = await this.#mined()
    const verdict = secondEvmCheck(c, block, sent)
    this.proposed++
    this.blobsVerified += bundle.blobs.length
    if (verdict.stateRootDiffers) { this.stateRootsDiffer++ }
    if (verdict.mismatches.length > 0 || refused.length > 0) {
      this.mismatches++
      for (const m of verdict.mismatches) { this.#log.error('second-evm-mismatch', { slot: env.slot, field: m.field, candidate: m.candidate, chain: m.chain }) }
      for (const r of refused) { this.#log.error('second-evm-mismatch', { slot: env.slot, field: 'transaction refused by the chain', message: r }) }
    }
    return { slot: env.slot, number: Number(BigInt(block.number)), hash: block.hash, from: 'committee', chainBlock: block, candidate: c, verdict, refused, blobs: bundle.blobs.length, ...(bundle.blobs.length > 0 ? { bundle } : {}) }
  }

  /** No candidate by the deadline: the chain builds the block itself (from its own, empty, pool). */
  async #fallback (env: SlotEnvironment): Promise<ProposedBlock> {
    const { rpc } = this.#o
    await rpc.call('evm_setNextBlockTimestamp', [env.timestamp])
    await rpc.call('anvil_setCoinbase', [hex(env.feeRecipient)])
    await rpc.call('evm_mine')
    const block = await this.#mined()
    this.fallbacks++
    this.#log.warn('fallback-block', { slot: env.slot, number: Number(BigInt(block.number)) })
    return { slot: env.slot, number: Number(BigInt(block.number)), hash: block.hash, from: 'fallback', chainBlock: block }
  }
}
