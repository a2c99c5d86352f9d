/**
 * A chain node made of a block test's data, on loopback: headers by hash, and state as the JSON-RPC
 * answers a real node gives (`eth_getProof` from full tries of the fixture's `pre`, `eth_getCode`),
 * so a block test runs through atelier's own chain bridge and proof verification. After a block
 * passes (its header equal to the fixture's, so its state root too), the nodes its simulation wrote
 * are added: tries are content-addressed, so the union is the full post-state trie.
 *
 * Owns FixtureNode.
 */
import { createServer } from 'node:http'
import { createMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX } from '@ethereumjs/statemanager'
import { bigIntToUnpaddedBytes, bytesToHex, bytesToUnprefixedHex, concatBytes, createAccountFromRLP, hexToBytes, KECCAK256_NULL, KECCAK256_RLP, setLengthLeft } from '@ethereumjs/util'
import { nodeTrie } from '../../chain/index.ts'
import { keccak256 } from '../../proto/index.ts'
import type { RpcBlock } from '../../chain/index.ts'
import type { Account } from '@ethereumjs/util'
import type { Server } from 'node:http'

export interface FixtureAccount {
  /** a quantity (fixtures write hex; anvil's dumped state, numbers) */
  nonce: string | number
  balance: string
  code: string
  storage: Record<string, string>
}

export class FixtureNode {
  /** every trie node and code blob, by hash (the same keys a proven parent uses) */
  readonly nodes = new Map<string, Uint8Array>()
  readonly #headers = new Map<string, RpcBlock>()
  readonly #chainId: number
  #server?: Server
  url = ''

  constructor (chainId: number) {
    this.#chainId = chainId
  }

  /** Builds the full tries of a state; returns its root. */
  async loadState (accounts: Record<string, FixtureAccount>): Promise<Uint8Array> {
    const state = nodeTrie(this.nodes)
    for (const [address, a] of Object.entries(accounts)) {
      const storage = nodeTrie(this.nodes)
      for (const [slot, value] of Object.entries(a.storage ?? {})) {
        const v = BigInt(value)
        if (v !== 0n) { await storage.put(setLengthLeft(hexToBytes(slot as `0x${string}`), 32), RLP.encode(bigIntToUnpaddedBytes(v))) }
      }
      const code = hexToBytes((a.code ?? '0x') as `0x${string}`)
      const codeHash = code.length === 0 ? KECCAK256_NULL : keccak256(code)
      if (code.length > 0) { this.nodes.set(bytesToUnprefixedHex(concatBytes(CODEHASH_PREFIX, codeHash)), code) }
      await state.put(hexToBytes(address as `0x${string}`), RLP.encode([bigIntToUnpaddedBytes(BigInt(a.nonce)), bigIntToUnpaddedBytes(BigInt(a.balance)), storage.root(), codeHash]))
    }
    return state.root()
  }

  addHeader (header: RpcBlock): void {
    this.#headers.set(header.hash.toLowerCase(), header)
  }

  /** Adds trie nodes (a passed block's simulation wrote them). */
  addNodes (nodes: Map<string, Uint8Array>): void {
    for (const [k, v] of nodes) { this.nodes.set(k, v) }
  }

  async start (): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        void this.#answer(JSON.parse(Buffer.concat(chunks).toString())).then(body => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)))
      })
    })
    await new Promise<void>(resolve => this.#server?.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`
  }

  async stop (): Promise<void> {
    this.#server?.closeAllConnections()
    await new Promise(resolve => this.#server?.close(resolve))
  }

  async #answer (body: unknown): Promise<unknown> {
    if (Array.isArray(body)) { return Promise.all(body.map(async c => this.#one(c))) }
    return this.#one(body as never)
  }

  async #one (call: { id: number, method: string, params: unknown[] }): Promise<unknown> {
    try {
      return { jsonrpc: '2.0', id: call.id, result: await this.#result(call.method, call.params) }
    } catch (err) {
      return { jsonrpc: '2.0', id: call.id, error: { code: -32601, message: (err as Error).message } }
    }
  }

  #stateRootOf (blockId: unknown): Uint8Array {
    const hash = (blockId as { blockHash?: string })?.blockHash
    const header = hash == null ? undefined : this.#headers.get(hash.toLowerCase())
    if (header == null) { throw new Error(`unknown block ${String(hash)}`) }
    return hexToBytes(header.stateRoot as `0x${string}`)
  }

  async #result (method: string, params: unknown[]): Promise<unknown> {
    switch (method) {
      case 'eth_chainId': return `0x${this.#chainId.toString(16)}`
      case 'eth_getBlockByHash': return this.#headers.get(String(params[0]).toLowerCase()) ?? null
      case 'eth_getProof': return this.#proof(String(params[0]), params[1] as string[], this.#stateRootOf(params[2]))
      case 'eth_getCode': {
        const account = await this.#account(String(params[0]), this.#stateRootOf(params[1]))
        if (account == null || !account.isContract()) { return '0x' }
        return bytesToHex(this.nodes.get(bytesToUnprefixedHex(concatBytes(CODEHASH_PREFIX, account.codeHash))) ?? new Uint8Array(0))
      }
      default: throw new Error(`the method ${method} is not served by a block test`)
    }
  }

  async #account (address: string, root: Uint8Array): Promise<Account | undefined> {
    const rlp = await nodeTrie(this.nodes, root).get(hexToBytes(address as `0x${string}`))
    return rlp == null ? undefined : createAccountFromRLP(rlp)
  }

  async #proof (address: string, slots: string[], root: Uint8Array): Promise<unknown> {
    const state = nodeTrie(this.nodes, root)
    const key = hexToBytes(address as `0x${string}`)
    const accountProof = (await createMerkleProof(state, key)).map(n => bytesToHex(n))
    const rlp = await state.get(key)
    const account = rlp == null ? undefined : createAccountFromRLP(rlp)
    const storage = nodeTrie(this.nodes, account?.storageRoot)
    const storageProof = await Promise.all(slots.map(async slot => {
      const k = setLengthLeft(hexToBytes(slot as `0x${string}`), 32)
      const value = account == null ? null : await storage.get(k)
      return {
        key: slot,
        value: value == null ? '0x0' : `0x${BigInt(bytesToHex(RLP.decode(value) as Uint8Array)).toString(16)}`,
        proof: account == null ? [] : (await createMerkleProof(storage, k)).map(n => bytesToHex(n))
      }
    }))
    return {
      address,
      balance: `0x${(account?.balance ?? 0n).toString(16)}`,
      nonce: `0x${(account?.nonce ?? 0n).toString(16)}`,
      codeHash: bytesToHex(account?.codeHash ?? KECCAK256_NULL),
      storageHash: bytesToHex(account?.storageRoot ?? KECCAK256_RLP),
      accountProof,
      storageProof
    }
  }
}
