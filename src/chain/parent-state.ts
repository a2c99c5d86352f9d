/**
 * Read-through cache of one parent block's state, fetched from the pinned RPC at a fixed block number.
 * Shared by every simulation on that parent: members re-simulate the same parent as inputs change,
 * and each read costs a round trip otherwise. Values never change (the block is fixed), so nothing
 * is ever invalidated; the cache dies with the parent.
 */
import { LRUCache } from 'lru-cache'
import { RpcError } from './errors.ts'
import { memoized, remember } from './memo.ts'
import type { ChainRpc, RpcCall } from './rpc-client.ts'

export interface RemoteAccount {
  nonce: bigint
  balance: bigint
  codeHash: string
  storageHash: string
}

/** `eth_getAccount` answers `storageRoot`, `eth_getProof` answers `storageHash` (and a proof we ignore) */
interface AccountResult {
  nonce: string
  balance: string
  codeHash: string
  storageHash?: string
  storageRoot?: string
}

type AccountMethod = 'eth_getAccount' | 'eth_getProof'

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

/**
 * How this node reads an account: `eth_getAccount` (anvil, reth) is a lookup; `eth_getProof`, which
 * every node has, builds a Merkle proof per account (~0.35 ms each on anvil: 200 accounts made the RPC
 * node the busiest process of a testnet slot). Probed once per client; a node without
 * `eth_getAccount` answers with an error and gets `eth_getProof`.
 */
const accountMethods = new WeakMap<ChainRpc, Promise<AccountMethod>>()

async function accountMethod (rpc: ChainRpc, tag: string): Promise<AccountMethod> {
  let p = accountMethods.get(rpc)
  if (p == null) {
    p = rpc.call<AccountResult | null>('eth_getAccount', [ZERO_ADDRESS, tag]).then(
      r => typeof r?.balance === 'string' && typeof r.nonce === 'string' && typeof r.codeHash === 'string' && typeof r.storageRoot === 'string' ? 'eth_getAccount' : 'eth_getProof',
      (err: unknown) => {
        if (err instanceof RpcError && (err.code === 'rpc-error' || err.code === 'rpc-bad-response')) {
          return 'eth_getProof'
        }
        throw err
      })
    accountMethods.set(rpc, p)
    // an unreachable node says nothing about its methods: ask again next time
    p.catch(() => { if (accountMethods.get(rpc) === p) { accountMethods.delete(rpc) } })
  }
  return p
}

function accountCall (method: AccountMethod, address: string, tag: string): RpcCall {
  return method === 'eth_getAccount'
    ? { method, params: [address, tag] }
    : { method, params: [address, [], tag] }
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

/**
 * The accounts and storage slots these transactions touch, by one batch of `eth_createAccessList`
 * (each call against `block`, independently): address → 32-byte slot keys. A warm-up's guess only:
 * what execution reads beyond it is fetched on demand.
 */
export async function accessedState (rpc: ChainRpc, calls: CallShape[], block: unknown): Promise<Map<string, Set<string>>> {
  const lists = await rpc.batchSettled(calls.map(c => ({ method: 'eth_createAccessList', params: [c, block] })))
  const wanted = new Map<string, Set<string>>()
  const want = (address: string, key?: string): void => {
    const a = lower(address)
    const keys = wanted.get(a) ?? new Set<string>()
    if (key != null) {
      keys.add(pad32(key))
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
  return wanted
}

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
    return memoized(this.#accounts, key, async () => {
      const method = await accountMethod(this.rpc, this.tag)
      const call = accountCall(method, key, this.tag)
      return toAccount(await this.#call<AccountResult>(call.method, call.params), method)
    })
  }

  async code (address: string): Promise<string> {
    const key = lower(address)
    return memoized(this.#code, key, async () => this.#call<string>('eth_getCode', [key, this.tag]))
  }

  async storage (address: string, slot: string): Promise<string> {
    const key = `${lower(address)}:${lower(slot)}`
    return memoized(this.#storage, key, async () => this.#call<string>('eth_getStorageAt', [lower(address), lower(slot), this.tag]))
  }

  async blockHash (number: bigint): Promise<string> {
    return memoized(this.#hashes, number, async () => {
      const b = await this.#call<{ hash: string } | null>('eth_getBlockByNumber', [`0x${number.toString(16)}`, false])
      if (b == null) {
        throw new RpcError('rpc-bad-response', 'eth_getBlockByNumber', `block ${number} not found`)
      }
      return b.hash
    })
  }

  /**
   * Warms the cache with the state these transactions will touch: one batch of `eth_createAccessList`
   * (each against the parent, independently), then one batch reading the listed accounts, their code
   * and storage slots. Only a cache warm-up: what execution reads that the lists missed is fetched on
   * demand, so results never depend on it.
   */
  async prefetchCalls (calls: CallShape[]): Promise<void> {
    if (calls.length === 0) {
      return
    }
    this.requests++
    const wanted = await accessedState(this.rpc, calls, this.tag)
    await this.#fetch([...wanted.keys()], [...wanted].flatMap(([a, keys]) => [...keys].map(k => [a, k] as [string, string])))
  }

  /** Fetches every listed account and its code not yet cached, in one batched request. */
  async prefetch (addresses: Iterable<string>): Promise<void> {
    await this.#fetch([...new Set([...addresses].map(lower))], [])
  }

  /** One batched request for the accounts (with code) and storage slots not cached yet. */
  async #fetch (addresses: string[], slots: Array<[string, string]>): Promise<void> {
    const method = await accountMethod(this.rpc, this.tag)
    // filtered after the await: a concurrent warm-up may have asked for some of these meanwhile
    const accounts = addresses.filter(a => !this.#accounts.has(a))
    const storage = slots.filter(([a, k]) => !this.#storage.has(`${a}:${k}`))
    if (accounts.length === 0 && storage.length === 0) {
      return
    }
    this.requests++
    const batch = this.rpc.batch([
      ...accounts.flatMap(a => [accountCall(method, a, this.tag), { method: 'eth_getCode', params: [a, this.tag] }]),
      ...storage.map(([a, k]) => ({ method: 'eth_getStorageAt', params: [a, k, this.tag] }))
    ])
    accounts.forEach((a, i) => {
      remember(this.#accounts, a, batch.then(r => toAccount(r[2 * i] as AccountResult, method)))
      remember(this.#code, a, batch.then(r => r[2 * i + 1] as string))
    })
    storage.forEach(([a, k], i) => {
      remember(this.#storage, `${a}:${k}`, batch.then(r => r[2 * accounts.length + i] as string))
    })
    await batch
  }

  async #call<T>(method: string, params: unknown[]): Promise<T> {
    this.requests++
    return this.rpc.call<T>(method, params)
  }
}

function toAccount (r: AccountResult, method: AccountMethod): RemoteAccount {
  const storageHash = r?.storageRoot ?? r?.storageHash
  if (r == null || typeof r.balance !== 'string' || typeof r.nonce !== 'string' || typeof r.codeHash !== 'string' || typeof storageHash !== 'string') {
    throw new RpcError('rpc-bad-response', method, 'account without balance, nonce, code hash or storage root')
  }
  return { nonce: BigInt(r.nonce), balance: BigInt(r.balance), codeHash: r.codeHash, storageHash }
}

/**
 * A few recent parents' caches; older ones are dropped as the head moves on (least recently used
 * first: a parent still being simulated on stays).
 */
export class ParentStateCache {
  readonly #rpc: ChainRpc
  readonly #states: LRUCache<bigint, ParentState>

  constructor (rpc: ChainRpc, max = 4) {
    this.#rpc = rpc
    this.#states = new LRUCache({ max })
  }

  get (number: bigint): ParentState {
    let state = this.#states.get(number)
    if (state == null) {
      state = new ParentState(this.#rpc, number)
      this.#states.set(number, state)
    }
    return state
  }
}
