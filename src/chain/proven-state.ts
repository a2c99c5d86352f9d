/**
 * A parent block's state that the chain RPC cannot falsify. The parent is addressed by hash (EIP-1898
 * `{ blockHash }` parameters, never by number); its header must hash to that hash; every account and
 * storage slot comes from `eth_getProof`, whose trie nodes are kept by their own keccak hash, so a
 * value is only ever read by walking from the header's `stateRoot` — a node the RPC altered is simply
 * not on the path, and the read fails instead of answering. Code must hash to the proven code hash;
 * BLOCKHASH answers come from the header chain, each header linked to its child by hash.
 *
 * The RPC can still withhold or stall (a slot is then refused), but not make a member sign a body
 * built on state other than the parent's. This refines the design's "the chain RPC is inside the TCB"
 * (ARCHITECTURE §9).
 *
 * Owns ProvenParent and ParentStateProofError; the cache of recent parents is proven-parent-cache.ts.
 */
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { CODEHASH_PREFIX } from '@ethereumjs/statemanager'
import { Account, bytesToHex, bytesToUnprefixedHex, concatBytes, createAccountFromRLP, hexToBytes, KECCAK256_RLP, MapDB, setLengthLeft, ValueEncoding } from '@ethereumjs/util'
import { CodedError, keccak256, toHex } from '../proto/index.ts'
import { RpcError } from './errors.ts'
import { headerHash } from './header-hash.ts'
import { memoized, remember } from './memo.ts'
import { accessedState } from './parent-state.ts'
import { collapseSibling, keyUnder, MAX_CRAFTED_NIBBLES } from './trie-collapse.ts'
import type { CallShape } from './parent-state.ts'
import type { ChainRpc } from './rpc-client.ts'
import type { RpcBlock } from './types.ts'

/**
 * A trie over a map of nodes by hash (as `eth_getProof` brings them), keys hashed as the state and
 * storage tries hash theirs; the root defaults to the empty trie.
 */
export function nodeTrie (nodes: Map<string, Uint8Array>, root?: Uint8Array): MerklePatriciaTrie {
  return new MerklePatriciaTrie({ db: new MapDB(nodes), root, useKeyHashing: true, useKeyHashingFunction: keccak256, valueEncoding: ValueEncoding.Bytes })
}

export type ParentStateProofCode = 'parent-state-proof' | 'parent-state-incomplete'

/** The RPC's answer about the parent does not verify (or lacks what a verified answer needs). */
export class ParentStateProofError extends CodedError<ParentStateProofCode> {}

interface ProofAnswer {
  address: string
  balance: string
  nonce: string
  codeHash: string
  storageHash: string
  accountProof: string[]
  storageProof: Array<{ key: string, value: string, proof: string[] }>
}

const lower = (s: string): string => s.toLowerCase()
const slotKey = (slot: string): string => bytesToHex(setLengthLeft(hexToBytes(slot as `0x${string}`), 32))

/** How many ancestors BLOCKHASH can reach (the EVM's window). */
const BLOCKHASH_WINDOW = 256n

export class ProvenParent {
  readonly rpc: ChainRpc
  readonly header: RpcBlock
  readonly hash: string
  readonly number: bigint
  readonly stateRoot: Uint8Array
  /** every proven trie node (and verified code), by keccak hash: shared by every simulation on this parent */
  readonly nodes = new Map<string, Uint8Array>()
  /** RPC round trips made for this parent */
  requests = 0
  /** proofs of crafted keys fetched for a deletion's branch collapse */
  collapseProofs = 0
  /**
   * where this parent's time went, for the benchmark: ms during which at least one proof batch was
   * outstanding (fetch and verification; overlapping batches count once), and ms computing post-state
   * roots (summed over the simulations on this parent)
   */
  readonly timings = { proofMs: 0, rootMs: 0 }
  /** the parent started from a predecessor's post-state (warm-state.ts): reads try its nodes first */
  warm = false
  #proofsInFlight = 0
  #proofsSince = 0
  readonly #accounts = new Map<string, Promise<Account | undefined>>()
  readonly #storage = new Map<string, Promise<void>>()
  readonly #code = new Map<string, Promise<void>>()
  readonly #hashes = new Map<bigint, Promise<Uint8Array>>()
  readonly #listed = new Set<string>()
  readonly #accountTrie: MerklePatriciaTrie

  private constructor (rpc: ChainRpc, header: RpcBlock) {
    this.rpc = rpc
    this.header = header
    this.hash = lower(header.hash)
    this.number = BigInt(header.number)
    this.stateRoot = hexToBytes(header.stateRoot as `0x${string}`)
    this.#accountTrie = this.trie(this.stateRoot)
  }

  /** The parent the hash pins: its header must hash to it. */
  static async open (rpc: ChainRpc, parentHash: string): Promise<ProvenParent> {
    const header = await rpc.call<RpcBlock | null>('eth_getBlockByHash', [parentHash, false])
    if (header == null) {
      throw new ParentStateProofError('parent-state-proof', `the chain RPC has no block ${parentHash}`)
    }
    const computed = bytesToHex(headerHash(header))
    if (computed !== lower(parentHash)) {
      throw new ParentStateProofError('parent-state-proof', `the header the chain RPC serves for ${parentHash} hashes to ${computed}`)
    }
    return new ProvenParent(rpc, header)
  }

  /** EIP-1898: every read names the parent by hash. */
  get blockId (): { blockHash: string } {
    return { blockHash: this.hash }
  }

  /** A trie over the proven nodes with the given root (keys hashed, as the state and storage tries). */
  trie (root: Uint8Array): MerklePatriciaTrie {
    return nodeTrie(this.nodes, root)
  }

  /**
   * Starts this parent from a predecessor's post-state: `nodes` are hash-linked to this parent's
   * state root (warm-state.ts), so what they hold needs no proof.
   */
  seed (nodes: Map<string, Uint8Array>): void {
    for (const [k, v] of nodes) { this.nodes.set(k, v) }
    this.warm = true
  }

  /** The proven account (undefined: proven absent). */
  async account (address: string): Promise<Account | undefined> {
    const key = lower(address)
    if (!this.#accounts.has(key)) {
      if (this.warm) {
        remember(this.#accounts, key, this.#held(key, []).then(async held => held ? this.#readAccount(key) : this.#proveAccount(key)))
      } else {
        // sets the account's entry before it awaits anything
        this.#proofs([[key, []]]).catch(() => {})
      }
    }
    return this.#accounts.get(key) as Promise<Account | undefined>
  }

  /** Ensures the storage slot is proven (the value is then read from the trie). */
  async storage (address: string, slot: string): Promise<void> {
    const key = `${lower(address)}:${slotKey(slot)}`
    return memoized(this.#storage, key, async () => {
      if (this.warm && await this.#held(lower(address), [slotKey(slot)])) { return }
      await this.#proofs([[lower(address), [slotKey(slot)]]])
    })
  }

  /** Ensures the account's code is held, checked against its proven code hash. */
  async code (address: string): Promise<void> {
    const key = lower(address)
    return memoized(this.#code, key, async () => this.#fetchCode(key))
  }

  async #readAccount (address: string): Promise<Account | undefined> {
    const rlp = await this.#accountTrie.get(hexToBytes(address as `0x${string}`), true)
    return rlp == null ? undefined : createAccountFromRLP(rlp)
  }

  async #proveAccount (address: string): Promise<Account | undefined> {
    // the account's entry is this very promise: #proofs verifies and adds the nodes, then it is read
    await this.#proofs([[address, []]])
    return this.#readAccount(address)
  }

  /** Whether the held nodes answer the account and these slots (a missing node on the path: no). */
  async #held (address: string, slots: string[]): Promise<boolean> {
    try {
      const rlp = await this.#accountTrie.get(hexToBytes(address as `0x${string}`), true)
      if (slots.length === 0) { return true }
      const root = rlp == null ? KECCAK256_RLP : createAccountFromRLP(rlp).storageRoot
      const trie = this.trie(root)
      for (const slot of slots) { await trie.get(hexToBytes(slot as `0x${string}`), true) }
      return true
    } catch {
      return false
    }
  }

  /** Proves, in one batch, the accounts and slots not proven yet (a warm-up: reads never depend on it). */
  async prefetch (accounts: Iterable<string>, slots: Iterable<[string, string]> = []): Promise<void> {
    const wanted = new Map<string, Set<string>>()
    for (const a of accounts) {
      if (!this.#accounts.has(lower(a))) { wanted.set(lower(a), wanted.get(lower(a)) ?? new Set()) }
    }
    for (const [a, s] of slots) {
      const k = slotKey(s)
      if (this.#storage.has(`${lower(a)}:${k}`)) { continue }
      wanted.set(lower(a), (wanted.get(lower(a)) ?? new Set()).add(k))
    }
    if (this.warm) {
      // what the predecessor's post-state holds needs no proof
      for (const [a, keys] of [...wanted]) {
        if (await this.#held(a, [...keys])) { wanted.delete(a) }
      }
    }
    if (wanted.size === 0) { return }
    const p = this.#proofs([...wanted].map(([a, keys]) => [a, [...keys]]))
    for (const [a, keys] of wanted) {
      for (const k of keys) { remember(this.#storage, `${a}:${k}`, p) }
    }
    await p
    const withCode = []
    for (const a of wanted.keys()) {
      const account = await this.account(a)
      if (account?.isContract() === true) { withCode.push(a) }
    }
    await Promise.all(withCode.map(async a => this.code(a)))
  }

  /**
   * Before a storage slot is deleted from `trie` (the account's current storage trie): if the
   * deletion's branch collapse needs a node no proof holds, prove a crafted slot routed through it.
   */
  async beforeStorageDeletion (address: string, trie: MerklePatriciaTrie, slot: Uint8Array): Promise<void> {
    const hashed = keccak256(slot)
    for (let round = 0; round < 4; round++) {
      const prefix = await collapseSibling(trie, hashed, hash => this.nodes.has(hash))
      if (prefix == null) { return }
      const crafted = keyUnder(prefix, 32)
      if (crafted == null) {
        throw new ParentStateProofError('parent-state-incomplete', `deleting a storage slot of ${address} needs a trie node ${prefix.length} nibbles deep that no proof holds (keys are crafted up to ${MAX_CRAFTED_NIBBLES} nibbles)`)
      }
      this.collapseProofs++
      await this.storage(address, bytesToHex(crafted))
    }
    throw new ParentStateProofError('parent-state-incomplete', `deleting a storage slot of ${address}: the proofs fetched do not hold the node its collapse needs`)
  }

  /** Proves, in one batch, the state these transactions touch (their access lists on the parent). */
  async prefetchCalls (calls: CallShape[]): Promise<void> {
    // a parent's access lists never change: ask once per call (re-simulations repeat most of them)
    let fresh = calls.filter(c => {
      const key = `${c.from}:${c.to ?? ''}:${c.value}:${c.gas}:${c.data}`
      if (this.#listed.has(key)) { return false }
      this.#listed.add(key)
      return true
    })
    if (this.warm) {
      // on a warm parent, a call between held accounts is left to the reads themselves: the access
      // lists cost the RPC node an execution each, and a slot it misses is proven when read
      const held = await Promise.all(fresh.map(async c => await this.#held(lower(c.from), []) && (c.to == null || await this.#held(lower(c.to), []))))
      fresh = fresh.filter((_, i) => !held[i])
    }
    if (fresh.length === 0) { return }
    this.requests++
    const wanted = await accessedState(this.rpc, fresh, this.blockId)
    await this.prefetch(wanted.keys(), [...wanted].flatMap(([a, keys]) => [...keys].map(k => [a, k] as [string, string])))
  }

  /** The hash of ancestor `n` (within the BLOCKHASH window), proven through the header chain. */
  async blockHash (n: bigint): Promise<Uint8Array> {
    if (n === this.number) { return hexToBytes(this.hash as `0x${string}`) }
    if (n > this.number || n < this.number - BLOCKHASH_WINDOW || n < 0n) {
      return new Uint8Array(32)
    }
    return memoized(this.#hashes, n, async () => this.#ancestor(n))
  }

  async #ancestor (n: bigint): Promise<Uint8Array> {
    // walk down from the parent: each header's parentHash is proven by the child that names it
    let child = this.header
    for (let k = this.number - 1n; k >= n; k--) {
      const expected = lower(child.parentHash)
      const cached = this.#hashes.get(k)
      if (k === n && cached != null) { return cached }
      this.requests++
      const header = await this.rpc.call<RpcBlock | null>('eth_getBlockByHash', [expected, false])
      if (header == null || bytesToHex(headerHash(header)) !== expected) {
        throw new ParentStateProofError('parent-state-proof', `ancestor ${k} of the parent: the header the chain RPC serves does not hash to ${expected}`)
      }
      if (k === n) { return hexToBytes(expected as `0x${string}`) }
      child = header
    }
    throw new ParentStateProofError('parent-state-proof', `ancestor ${n} is out of reach`)
  }

  async #fetchCode (address: string): Promise<void> {
    const account = await this.account(address)
    if (account == null || !account.isContract()) { return }
    if (this.nodes.has(bytesToUnprefixedHex(concatBytes(CODEHASH_PREFIX, account.codeHash)))) { return }
    this.requests++
    const code = hexToBytes(await this.rpc.call<string>('eth_getCode', [address, this.blockId]) as `0x${string}`)
    if (bytesToHex(keccak256(code)) !== bytesToHex(account.codeHash)) {
      throw new ParentStateProofError('parent-state-proof', `code of ${address}: the chain RPC's answer does not hash to the proven code hash`)
    }
    this.nodes.set(toHex(concatBytes(CODEHASH_PREFIX, account.codeHash)), code)
  }

  /**
   * One batch of `eth_getProof`; each answer verified against the state root before it is used. Each
   * account's entry is set before the first await, so concurrent reads share one request.
   */
  async #proofs (requests: Array<[string, string[]]>): Promise<void> {
    this.requests++
    if (this.#proofsInFlight++ === 0) { this.#proofsSince = performance.now() }
    try {
      await this.#proofBatch(requests)
    } finally {
      if (--this.#proofsInFlight === 0) { this.timings.proofMs += performance.now() - this.#proofsSince }
    }
  }

  async #proofBatch (requests: Array<[string, string[]]>): Promise<void> {
    const answers = this.rpc.batch<ProofAnswer[]>(requests.map(([address, slots]) => ({ method: 'eth_getProof', params: [address, slots, this.blockId] })))
    await Promise.all(requests.map(async ([address, slots], i) => {
      const verified = answers.then(async a => this.#verifyAccount(address, a[i]))
      if (!this.#accounts.has(address)) {
        remember(this.#accounts, address, verified)
      }
      const account = await verified
      await this.#verifyStorage(address, account, slots, (await answers)[i])
    }))
  }

  async #verifyAccount (address: string, answer: ProofAnswer | null): Promise<Account | undefined> {
    if (answer == null || !Array.isArray(answer.accountProof)) {
      throw new RpcError('rpc-bad-response', 'eth_getProof', `no account proof for ${address}`)
    }
    this.#addNodes(answer.accountProof)
    let rlp: Uint8Array | null
    try {
      rlp = await this.#accountTrie.get(hexToBytes(address as `0x${string}`), true)
    } catch {
      throw new ParentStateProofError('parent-state-proof', `account ${address}: the chain RPC's proof does not reach the parent's state root`)
    }
    const account = rlp == null ? undefined : createAccountFromRLP(rlp)
    const claimed = {
      nonce: BigInt(answer.nonce ?? 0),
      balance: BigInt(answer.balance ?? 0),
      storageRoot: lower(answer.storageHash ?? ''),
      codeHash: lower(answer.codeHash ?? '')
    }
    const proven = account ?? new Account()
    const absentOk = account == null && claimed.nonce === 0n && claimed.balance === 0n
    const agrees = claimed.nonce === proven.nonce && claimed.balance === proven.balance &&
      (absentOk || (claimed.storageRoot === bytesToHex(proven.storageRoot) && claimed.codeHash === bytesToHex(proven.codeHash)))
    if (!agrees) {
      throw new ParentStateProofError('parent-state-proof', `account ${address}: the chain RPC's answer disagrees with its own proof`)
    }
    return account
  }

  async #verifyStorage (address: string, account: Account | undefined, slots: string[], answer: ProofAnswer): Promise<void> {
    if (slots.length === 0) { return }
    const root = account?.storageRoot ?? KECCAK256_RLP
    if (bytesToHex(root) === bytesToHex(KECCAK256_RLP)) {
      // an empty storage trie: every slot is zero, and nothing needs a proof (anvil answers ["0x80"])
      return
    }
    const trie = this.trie(root)
    for (const slot of slots) {
      const entry = answer.storageProof?.find(e => slotKey(e.key) === slot)
      if (entry == null || !Array.isArray(entry.proof)) {
        throw new RpcError('rpc-bad-response', 'eth_getProof', `no storage proof for ${address} slot ${slot}`)
      }
      this.#addNodes(entry.proof)
      let value: Uint8Array | null
      try {
        value = await trie.get(hexToBytes(slot as `0x${string}`), true)
      } catch {
        throw new ParentStateProofError('parent-state-proof', `storage ${address} slot ${slot}: the chain RPC's proof does not reach the account's storage root`)
      }
      const claimed = BigInt(entry.value ?? 0)
      const proven = value == null ? 0n : BigInt(bytesToHex(decodeRlpBytes(value)))
      if (claimed !== proven) {
        throw new ParentStateProofError('parent-state-proof', `storage ${address} slot ${slot}: the chain RPC's answer disagrees with its own proof`)
      }
    }
  }

  #addNodes (proof: string[]): void {
    for (const hex of proof) {
      const node = hexToBytes(hex as `0x${string}`)
      // the node map lives as long as the parent is cached: flat keys (see toHex)
      this.nodes.set(toHex(keccak256(node)), node)
    }
  }
}

/** RLP-decodes a storage leaf's value (a byte string). */
function decodeRlpBytes (value: Uint8Array): Uint8Array {
  // a storage value is RLP of its minimal big-endian bytes: one short-string prefix at most
  if (value.length === 1 && value[0] < 0x80) { return value }
  if (value[0] >= 0x80 && value[0] <= 0xb7) { return value.subarray(1, 1 + value[0] - 0x80) }
  throw new ParentStateProofError('parent-state-proof', 'a storage leaf that is not an RLP string')
}
