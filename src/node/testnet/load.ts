/**
 * The testnet's load generator: ETH and ERC-20 transfers and, now and then, a revert-protected
 * bundle, submitted round-robin to the members' ingestion endpoints. When the chain mines what the
 * committee seals (`chainMined`, the closed loop), a fixed set of funded accounts is reused, each
 * transaction signed with its sender's nonce on chain: a transaction still in the pool when its
 * sender is used again is replaced (same nonce, another fee), and one that is never mined leaves a
 * gap the next use closes, as in a real pool. Otherwise (the chain never mines the candidates) keys are
 * used once each, their on-chain nonce staying 0.
 *
 * Keys are funded in batches, each batch mined into a block at once (`anvil_setBalance` then
 * `evm_mine`): a balance set between blocks changes the state anvil serves for its latest block
 * without changing that block's state root, so members proving their parent state would (rightly)
 * refuse the slot.
 */
import { randomBytes } from 'node:crypto'
import { bytesToHex } from '@ethereumjs/util'
import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js'
import { makeCommon } from '../../core/index.ts'
import { blobData, Workload } from '../workload/workload.ts'
import type { DevChain } from './anvil.ts'
import type { ChainInfo } from '../../chain/index.ts'
import type { BlobData } from '../workload/workload.ts'

/** anvil's first default account (test mnemonic): public, local chains only */
const ANVIL_DEPLOYER = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const FUNDING = '0x56bc75e2d63100000'

export interface LoadOptions {
  anvil: DevChain
  chain: ChainInfo
  /** members' ingestion JSON-RPC URLs */
  targets(): string[]
  txsPerSlot: number
  /** one bundle every this many ticks (0 = never) */
  bundleEvery?: number
  /** token holders minted at setup; each sends one token transfer */
  holders?: number
  /** one-shot keys funded per batch (default 1024); with `chainMined`, the accounts reused */
  fundBatch?: number
  /** the chain mines the committee's candidates: reuse funded accounts with their nonces on chain */
  chainMined?: boolean
  /** blob transactions (one blob each, in their network form) per slot (default 0) */
  blobTxsPerSlot?: number
}

/** a sender's transactions waiting for the chain at most before the load replaces instead of adding */
const MAX_IN_FLIGHT = 2
/** with `chainMined`: accounts for hints and bundles (one hint a slot, a bundle every few) */
const SIDE_ACCOUNTS = 8

type Reply = { id: number, result?: unknown, error?: { message: string } }

/** One JSON-RPC batch: each call's reply, in order; throws only if the request itself fails. */
async function replies (url: string, calls: Array<{ method: string, params: unknown[] }>): Promise<Reply[]> {
  if (calls.length === 0) { return [] }
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map((c, id) => ({ jsonrpc: '2.0', id, ...c }))),
    signal: AbortSignal.timeout(10_000)
  })
  return (await res.json() as Reply[]).sort((a, b) => a.id - b.id)
}

/** One JSON-RPC batch; throws if the request fails or any call answers an error. */
async function batch (url: string, calls: Array<{ method: string, params: unknown[] }>): Promise<unknown[]> {
  const json = await replies(url, calls)
  const failed = json.find(r => r.error != null)
  if (failed != null) { throw new Error(failed.error?.message) }
  return json.map(r => r.result)
}

export class LoadGenerator {
  readonly #o: LoadOptions
  readonly #common
  token = ''
  #holders: Workload | undefined
  #nextHolder = 0
  /** funded one-shot keys not used yet */
  readonly #funded: Workload[] = []
  #funding: Promise<void> | undefined
  #tick = 0
  #target = 0
  #nextAccount = 0
  /** with `chainMined`: the accounts hints and bundles send from, apart from the pool's */
  readonly #side: Workload[] = []
  #nextSide = 0
  /** the last nonce each address sent that a member took */
  readonly #sent = new Map<string, bigint>()
  /** every pool transaction submitted (hash → raw), for the exactly-once check */
  readonly submitted = new Map<string, Uint8Array>()
  /** transactions sent inside auction bids: a bid that loses or comes late is dropped, so at most once */
  readonly bundled = new Map<string, Uint8Array>()
  /**
   * each submitted transaction's sender and nonce (hash → `sender:nonce`): transactions that share one
   * replace each other, and exactly one of them can be mined
   */
  readonly slotOf = new Map<string, string>()
  /** blob transactions submitted (hash → canonical form), also in `submitted` */
  readonly blobTxs = new Map<string, Uint8Array>()
  #blobs: BlobData | undefined
  errors = 0

  constructor (options: LoadOptions) {
    this.#o = options
    this.#common = makeCommon(options.chain)
  }

  /** Deploys the token and mints to the holders, on the chain itself. */
  async setup (): Promise<void> {
    const anvil = this.#o.anvil
    const deployer = new Workload(this.#common, [ANVIL_DEPLOYER])
    deployer.nonces[0] = BigInt(await anvil.rpc<string>('eth_getTransactionCount', [deployer.addresses[0], 'pending']))
    const holders = new Workload(this.#common, Array.from({ length: this.#o.holders ?? 256 }, () => new Uint8Array(randomBytes(32))))
    const { raw, address } = deployer.deployToken(0)
    const hashes = [await anvil.rpc<string>('eth_sendRawTransaction', [bytesToHex(raw)])]
    for (const a of holders.addresses) {
      await anvil.rpc('anvil_setBalance', [a, FUNDING])
      hashes.push(await anvil.rpc<string>('eth_sendRawTransaction', [bytesToHex(deployer.mint(0, address, a, 1_000_000n))]))
    }
    this.#funded.push(...await this.#fundKeys(false))
    if (this.#o.chainMined === true) { this.#side.push(...await this.#fundKeys(false, SIDE_ACCOUNTS)) }
    if ((this.#o.blobTxsPerSlot ?? 0) > 0) {
      // computed once (seconds of pure-JS KZG), then sent by every blob transaction
      this.#blobs = blobData(this.#common, 'atelier testnet: a blob the committee carries to the chain')
      // anvil loads its KZG setup with the first blob transaction it is sent (3 s measured alone, 6 s
      // beside four members): paid here, in the set-up block, not by the first slot with a blob
      hashes.push(await anvil.rpc<string>('eth_sendRawTransaction', [bytesToHex(deployer.blobTransfer(0, deployer.addresses[0], this.#blobs).network)]))
    }
    // the only block the load mines itself: from here on the chain's blocks are the slots'
    await anvil.rpc('evm_mine')
    for (const h of hashes) {
      for (let i = 0; i < 200; i++) {
        if (await anvil.rpc('eth_getTransactionReceipt', [h]) != null) { break }
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    }
    this.token = address
    this.#holders = holders
  }

  /** A batch of fresh keys with balances set (mined into a block at once unless `mined` is false). */
  async #fundKeys (mine = true, count = this.#o.fundBatch ?? 1024): Promise<Workload[]> {
    const keys = Array.from({ length: count }, () => new Workload(this.#common, [new Uint8Array(randomBytes(32))]))
    for (let i = 0; i < keys.length; i += 256) {
      await batch(this.#o.anvil.url, keys.slice(i, i + 256).map(w => ({ method: 'anvil_setBalance', params: [w.addresses[0], FUNDING] })))
    }
    if (mine) { await this.#o.anvil.rpc('evm_mine') }
    return keys
  }

  /** A funded key used once. */
  async #fresh (): Promise<Workload> {
    while (this.#funded.length === 0) {
      this.#funding ??= this.#fundKeys().then(keys => { this.#funded.push(...keys) }).finally(() => { this.#funding = undefined })
      await this.#funding
    }
    return this.#funded.pop() as Workload
  }

  #nextTarget (): string {
    const targets = this.#o.targets()
    return targets[this.#target++ % targets.length]
  }

  /**
   * The sender of a co-builder's hint or a bundle: a one-shot key or, when the chain mines the
   * candidates, the next of the side accounts with its nonce on chain. Never one of the pool's
   * accounts: a hint taking the nonce of a pool transaction still in flight (one the chain had not
   * taken yet) made that transaction unminable for good, and the load counts each pool nonce once.
   */
  async #sideSender (): Promise<Workload> {
    if (this.#o.chainMined !== true) { return this.#fresh() }
    const w = this.#side[this.#nextSide++ % this.#side.length]
    w.nonces[0] = BigInt(await this.#o.anvil.rpc<string>('eth_getTransactionCount', [w.addresses[0], 'latest']))
    return w
  }

  /** A funded ETH transfer for a co-builder's hint. */
  async freshTransfer (): Promise<Uint8Array> {
    const w = await this.#sideSender()
    return w.ethTransfer(0, w.addresses[0], 1n, { maxPriorityFeePerGas: BigInt(1 + (this.#tick % 5)) * 1_000_000_000n })
  }

  /**
   * When the chain mines the candidates: the chain nonces of the accounts this tick will use, in turn
   * (holders for every other transaction, funded accounts for the rest), in one batch.
   */
  async #chainNonces (txs: number, extra: number): Promise<void> {
    const holders = this.#holders
    const calls: Array<{ method: string, params: unknown[] }> = []
    const set: Array<(n: bigint) => void> = []
    const holderTxs = holders == null ? 0 : Math.ceil(txs / 2)
    if (holders != null) {
      for (let k = 0; k < holderTxs; k++) {
        const from = (this.#nextHolder + k) % holders.keys.length
        calls.push({ method: 'eth_getTransactionCount', params: [holders.addresses[from], 'latest'] })
        set.push(n => { holders.nonces[from] = this.#nonceFor(holders.addresses[from], n) })
      }
    }
    for (let k = 0; k < txs - holderTxs + extra; k++) {
      const w = this.#funded[(this.#nextAccount + k) % this.#funded.length]
      calls.push({ method: 'eth_getTransactionCount', params: [w.addresses[0], 'latest'] })
      set.push(n => { w.nonces[0] = this.#nonceFor(w.addresses[0], n) })
    }
    const nonces = await batch(this.#o.anvil.url, calls)
    nonces.forEach((n, i) => { set[i](BigInt(n as string)) })
  }

  /** A wallet's next nonce: after the last one taken, unless the chain passed it or too many wait. */
  #nonceFor (address: string, onChain: bigint): bigint {
    const last = this.#sent.get(address)
    return last != null && last >= onChain && last - onChain < BigInt(MAX_IN_FLIGHT) ? last + 1n : onChain
  }

  /** A member took `key`'s (`address:nonce`) transaction. */
  #took (key: string): void {
    const [address, nonce] = key.split(':')
    if (nonce == null || !/^\d+$/.test(nonce)) { return }
    const n = BigInt(nonce)
    if ((this.#sent.get(address) ?? -1n) < n) { this.#sent.set(address, n) }
  }

  /** The next account in turn, its nonce already read by `#chainNonces`; otherwise a one-shot key. */
  async #sender (): Promise<Workload> {
    return this.#o.chainMined === true ? this.#funded[this.#nextAccount++ % this.#funded.length] : this.#fresh()
  }

  /** Blob transactions, each to the next member in turn, in their network form. */
  async #sendBlobTxs (count: number): Promise<void> {
    for (let i = 0; i < count && this.#blobs != null; i++) {
      const w = await this.#sender()
      const key = `${w.addresses[0]}:${w.nonces[0]}`
      const { network, canonical } = w.blobTransfer(0, w.addresses[0], this.#blobs)
      try {
        await batch(this.#nextTarget(), [{ method: 'eth_sendRawTransaction', params: [bytesToHex(network)] }])
        const hash = bytesToHex(keccak256(canonical))
        this.submitted.set(hash, canonical)
        this.slotOf.set(hash, key)
        this.#took(key)
        this.blobTxs.set(hash, canonical)
      } catch {
        this.errors++
      }
    }
  }

  /** One slot's worth of load. */
  async tick (slot: number): Promise<void> {
    this.#tick++
    const raws: Uint8Array[] = []
    const keys = new Map<Uint8Array, string>()
    const blobTxs = this.#blobs == null ? 0 : (this.#o.blobTxsPerSlot ?? 0)
    if (this.#o.chainMined === true) { await this.#chainNonces(this.#o.txsPerSlot, blobTxs) }
    for (let i = 0; i < this.#o.txsPerSlot; i++) {
      const holders = this.#holders
      if (i % 2 === 0 && holders != null && (this.#o.chainMined === true || this.#nextHolder < holders.keys.length)) {
        const from = this.#nextHolder++ % holders.keys.length
        const key = `${holders.addresses[from]}:${holders.nonces[from]}`
        raws.push(holders.tokenTransfer(from, this.token, holders.addresses[(from + 1) % holders.keys.length], BigInt(1 + (i % 7)), { maxPriorityFeePerGas: BigInt(1 + (i % 3)) * 1_000_000_000n }))
        keys.set(raws[raws.length - 1], key)
      } else {
        const w = await this.#sender()
        const key = `${w.addresses[0]}:${w.nonces[0]}`
        raws.push(w.ethTransfer(0, w.addresses[0], 1n, { maxPriorityFeePerGas: BigInt(1 + (i % 5)) * 1_000_000_000n }))
        keys.set(raws[raws.length - 1], key)
      }
      if (i % 8 === 7) {
        // signing is CPU-bound: let the follower and the co-builder run in between
        await new Promise(resolve => setImmediate(resolve))
      }
    }
    const targets = this.#o.targets()
    if (targets.length === 0) { return }
    await this.#sendBlobTxs(blobTxs)
    const byTarget = new Map<string, Uint8Array[]>()
    for (const raw of raws) {
      const t = this.#nextTarget()
      byTarget.set(t, [...(byTarget.get(t) ?? []), raw])
    }
    await Promise.all([...byTarget].map(async ([url, list]) => {
      try {
        const answers = await replies(url, list.map(raw => ({ method: 'eth_sendRawTransaction', params: [bytesToHex(raw)] })))
        // each transaction on its own: a refused one (an underpriced replacement) leaves the rest taken
        list.forEach((raw, i) => {
          if (answers[i]?.error != null) {
            this.errors++
            return
          }
          const hash = bytesToHex(keccak256(raw))
          const key = keys.get(raw) ?? hash
          this.submitted.set(hash, raw)
          this.slotOf.set(hash, key)
          this.#took(key)
        })
      } catch {
        this.errors += list.length
      }
    }))
    const every = this.#o.bundleEvery ?? 0
    if (every > 0 && this.#tick % every === 0) {
      const a = await this.#sideSender()
      const txs = [a.ethTransfer(0, a.addresses[0], 2n), a.ethTransfer(0, a.addresses[0], 3n)]
      try {
        await batch(this.#nextTarget(), [{ method: 'eth_sendBundle', params: [{ txs: txs.map(t => bytesToHex(t)), revertProtected: true, slot }] }])
        for (const t of txs) { this.bundled.set(bytesToHex(keccak256(t)), t) }
      } catch {
        this.errors++
      }
    }
  }
}
