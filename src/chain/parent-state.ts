/**
 * Read-through cache of one parent block's state, fetched from the pinned RPC at a fixed block number.
 * Shared by every simulation on that parent: members re-simulate the same parent as inputs change,
 * and each read costs a round trip otherwise. Values never change (the block is fixed), so nothing
 * is ever invalidated; the cache dies with the parent.
 */
import { RpcError } from './errors.ts'
import type { ChainRpc, RpcCall } from './rpc-client.ts'

export interface RemoteAccount {
  nonce: bigint
  balance: bigint
  codeHash: string
  storageHash: string
}

interface ProofResult {
  nonce: string
  balance: string
  codeHash: string
  storageHash: string
  storageProof?: Array<{ key: string, value: string }>
}

/** A transaction as a call, for `eth_createAccessList`. */
export interface CallShape {
  from: string
  to?: string
  data: string
  value: string
  gas: string
}

const pad32 = (quantity: string): string => `0x${BigInt(quantity).toString(16).padStart(64, '0')}`

const lower = (s: string): string => s.toLowerCase()

export class ParentState {
  readonly rpc: ChainRpc
  readonly number: bigint
  readonly tag: string
  readonly #accounts = new Map<string, Promise<RemoteAccount>>()
  readonly #code = new Map<string, Promise<string>>()
  readonly #storage = new Map<string, Promise<string>>()
  readonly #hashes = new Map<bigint, Promise<string>>()
  /** RPC round trips made for this parent (for benchmarks and tests) */
  requests = 0

  constructor (rpc: ChainRpc, number: bigint) {
    this.rpc = rpc
    this.number = number
    this.tag = `0x${number.toString(16)}`
  }

  async account (address: string): Promise<RemoteAccount> {
    const key = lower(address)
    let p = this.#accounts.get(key)
    if (p == null) {
      p = this.#call<ProofResult>('eth_getProof', [key, [], this.tag]).then(toAccount)
      this.#remember(this.#accounts, key, p)
    }
    return p
  }

  async code (address: string): Promise<string> {
    const key = lower(address)
    let p = this.#code.get(key)
    if (p == null) {
      p = this.#call<string>('eth_getCode', [key, this.tag])
      this.#remember(this.#code, key, p)
    }
    return p
  }

  async storage (address: string, slot: string): Promise<string> {
    const key = `${lower(address)}:${lower(slot)}`
    let p = this.#storage.get(key)
    if (p == null) {
      p = this.#call<string>('eth_getStorageAt', [lower(address), lower(slot), this.tag])
      this.#remember(this.#storage, key, p)
    }
    return p
  }

  async blockHash (number: bigint): Promise<string> {
    let p = this.#hashes.get(number)
    if (p == null) {
      p = this.#call<{ hash: string } | null>('eth_getBlockByNumber', [`0x${number.toString(16)}`, false]).then(b => {
        if (b == null) {
          throw new RpcError('rpc-bad-response', 'eth_getBlockByNumber', `block ${number} not found`)
        }
        return b.hash
      })
      this.#remember(this.#hashes, number, p)
    }
    return p
  }

  /**
   * Warms the cache with the state these transactions will touch: one batch of `eth_createAccessList`
   * (each against the parent, independently), then one batch of `eth_getProof` with the storage keys
   * and `eth_getCode`. Only a cache warm-up: what execution reads that the lists missed is fetched on
   * demand, so results never depend on it.
   */
  async prefetchCalls (calls: CallShape[]): Promise<void> {
    if (calls.length === 0) {
      return
    }
    this.requests++
    const lists = await this.rpc.batchSettled(calls.map(c => ({ method: 'eth_createAccessList', params: [c, this.tag] })))
    const wanted = new Map<string, Set<string>>()
    const want = (address: string, key?: string): void => {
      const a = lower(address)
      const keys = wanted.get(a) ?? new Set<string>()
      if (key != null && !this.#storage.has(`${a}:${lower(key)}`)) {
        keys.add(lower(key))
      }
      wanted.set(a, keys)
    }
    calls.forEach((c, i) => {
      want(c.from)
      if (c.to != null) { want(c.to) }
      const r = lists[i]
      const list = r instanceof RpcError ? undefined : (r.result as { accessList?: Array<{ address: string, storageKeys: string[] }> } | null)?.accessList
      for (const entry of list ?? []) {
        want(entry.address)
        for (const key of entry.storageKeys) { want(entry.address, key) }
      }
    })
    const todo = [...wanted].filter(([a, keys]) => !this.#accounts.has(a) || keys.size > 0)
    if (todo.length === 0) {
      return
    }
    this.requests++
    const batch = this.rpc.batch(todo.flatMap(([a, keys]) => [
      { method: 'eth_getProof', params: [a, [...keys], this.tag] },
      { method: 'eth_getCode', params: [a, this.tag] }
    ]))
    todo.forEach(([a, keys], i) => {
      const proof = batch.then(r => r[2 * i] as ProofResult)
      if (!this.#accounts.has(a)) {
        this.#remember(this.#accounts, a, proof.then(toAccount))
        this.#remember(this.#code, a, batch.then(r => r[2 * i + 1] as string))
      }
      for (const key of keys) {
        this.#remember(this.#storage, `${a}:${key}`, proof.then(p => {
          const found = p.storageProof?.find(s => lower(s.key) === key || BigInt(s.key) === BigInt(key))
          // same representation as eth_getStorageAt (32 bytes), so a warmed read equals a cold one
          return pad32(found?.value ?? '0x0')
        }))
      }
    })
    await batch
  }

  /** Fetches every listed account and its code not yet cached, in one batched request. */
  async prefetch (addresses: Iterable<string>): Promise<void> {
    const missing = [...new Set([...addresses].map(lower))].filter(a => !this.#accounts.has(a))
    if (missing.length === 0) {
      return
    }
    const calls: RpcCall[] = missing.flatMap(a => [
      { method: 'eth_getProof', params: [a, [], this.tag] },
      { method: 'eth_getCode', params: [a, this.tag] }
    ])
    this.requests++
    const batch = this.rpc.batch(calls)
    missing.forEach((a, i) => {
      this.#remember(this.#accounts, a, batch.then(r => toAccount(r[2 * i] as ProofResult)))
      this.#remember(this.#code, a, batch.then(r => r[2 * i + 1] as string))
    })
    await batch
  }

  async #call<T>(method: string, params: unknown[]): Promise<T> {
    this.requests++
    return this.rpc.call<T>(method, params)
  }

  /** A failed read is forgotten, so the next simulation retries it instead of inheriting the error. */
  #remember<K, V>(map: Map<K, Promise<V>>, key: K, p: Promise<V>): void {
    map.set(key, p)
    p.catch(() => { if (map.get(key) === p) { map.delete(key) } })
  }
}

function toAccount (r: ProofResult): RemoteAccount {
  if (r == null || typeof r.balance !== 'string' || typeof r.nonce !== 'string') {
    throw new RpcError('rpc-bad-response', 'eth_getProof', 'account proof without balance/nonce')
  }
  return { nonce: BigInt(r.nonce), balance: BigInt(r.balance), codeHash: r.codeHash, storageHash: r.storageHash }
}

/** A few recent parents' caches; older ones are dropped as the head moves on. */
export class ParentStateCache {
  readonly #rpc: ChainRpc
  readonly #max: number
  readonly #states = new Map<bigint, ParentState>()

  constructor (rpc: ChainRpc, max = 4) {
    this.#rpc = rpc
    this.#max = max
  }

  get (number: bigint): ParentState {
    let state = this.#states.get(number)
    if (state == null) {
      state = new ParentState(this.#rpc, number)
      this.#states.set(number, state)
      while (this.#states.size > this.#max) {
        this.#states.delete(this.#states.keys().next().value as bigint)
      }
    }
    return state
  }
}
