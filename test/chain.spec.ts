import { createServer } from 'node:http'
import { expect } from 'aegir/chai'
import { ChainRpc, detectChainInfo, HeadWatcher, ParentState, ParentStateCache, RpcError } from '../src/chain/index.ts'
import { Anvil, freePort } from './fixtures/anvil.ts'
import { rejectsWith } from './fixtures/errors.ts'
import type { SlotBoundary } from '../src/chain/index.ts'
import type { Server } from 'node:http'

const rpcError = async (p: Promise<unknown>): Promise<RpcError> => rejectsWith(p, RpcError)

describe('chain: the pinned RPC bridge', function () {
  this.timeout(60_000)
  let anvil: Anvil
  let rpc: ChainRpc

  before(async () => {
    anvil = await Anvil.start()
    rpc = new ChainRpc(anvil.url)
  })

  after(async () => {
    await anvil?.stop()
  })

  it('calls and batches against anvil', async () => {
    expect(await rpc.call('eth_chainId')).to.equal('0x7a69')
    const [id, n] = await rpc.batch<[string, string]>([{ method: 'eth_chainId', params: [] }, { method: 'eth_blockNumber', params: [] }])
    expect(id).to.equal('0x7a69')
    expect(n).to.match(/^0x/)
  })

  it('detects chain id and hardfork (anvil 1.7.1: 31337, bpo1)', async () => {
    expect(await detectChainInfo(rpc)).to.deep.equal({ chainId: 31337, hardfork: 'bpo1', reported: true })
  })

  it('gives typed errors: node error, unreachable, timeout, bad response', async () => {
    expect((await rpcError(rpc.call('no_such_method'))).code).to.equal('rpc-error')
    const closed = new ChainRpc(`http://127.0.0.1:${await freePort()}`, { attempts: 2, backoffMs: 10 })
    expect((await rpcError(closed.call('eth_chainId'))).code).to.equal('rpc-unreachable')
    const servers: Server[] = []
    try {
      const slow = createServer(() => { /* never answers */ })
      const junk = createServer((_req, res) => { res.end('not json') })
      servers.push(slow, junk)
      const ports = await Promise.all(servers.map(async s => new Promise<number>(resolve => s.listen(0, '127.0.0.1', () => { resolve((s.address() as { port: number }).port) }))))
      expect((await rpcError(new ChainRpc(`http://127.0.0.1:${ports[0]}`, { timeoutMs: 200, attempts: 1 }).call('eth_chainId'))).code).to.equal('rpc-timeout')
      expect((await rpcError(new ChainRpc(`http://127.0.0.1:${ports[1]}`, { attempts: 1 }).call('eth_chainId'))).code).to.equal('rpc-bad-response')
    } finally {
      for (const s of servers) {
        s.closeAllConnections()
        s.close()
      }
    }
    expect(() => new ChainRpc('ws://127.0.0.1:1')).to.throw(RpcError)
  })

  it('observes new heads as slot boundaries', async () => {
    const seen: SlotBoundary[] = []
    const watcher = new HeadWatcher(rpc, { intervalMs: 50, onSlot: b => seen.push(b) })
    watcher.start()
    try {
      for (let i = 0; i < 100 && seen.length === 0; i++) { await new Promise(resolve => setTimeout(resolve, 20)) }
      await anvil.rpc('evm_mine')
      const before = seen.length
      for (let i = 0; i < 100 && seen.length === before; i++) { await new Promise(resolve => setTimeout(resolve, 20)) }
    } finally {
      await watcher.stop()
    }
    expect(seen.length).to.be.at.least(2)
    const last = seen[seen.length - 1]
    expect(last.slot).to.equal(last.parentNumber + 1)
    expect(last.parentHash).to.equal((await anvil.rpc<{ hash: string }>('eth_getBlockByNumber', ['latest', false])).hash)
    expect(seen[seen.length - 2].slot).to.equal(last.slot - 1)
  })

  it('parent state: one batched prefetch, then reads served from the cache', async () => {
    const number = BigInt(await rpc.call<string>('eth_blockNumber'))
    const state = new ParentState(rpc, number)
    const accounts = ['0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', '0x70997970c51812dc3a010c7d01b50e0d17dc79c8', '0x0000000000000000000000000000000000000001']
    await state.prefetch(accounts)
    expect(state.requests).to.equal(1)
    const a = await state.account(accounts[0])
    expect(a.balance > 0n).to.equal(true)
    await state.code(accounts[1])
    await state.prefetch(accounts)
    expect(state.requests).to.equal(1)
  })

  /** A real JSON-RPC hop in front of anvil that records methods and can refuse one, as an older node would. */
  async function proxy (refuse?: string): Promise<{ url: string, methods: string[], close(): void }> {
    const methods: string[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as Array<{ id: number, method: string }> | { id: number, method: string }
        const calls = Array.isArray(body) ? body : [body]
        methods.push(...calls.map(c => c.method))
        const refused = calls.filter(c => c.method === refuse).map(c => ({ jsonrpc: '2.0', id: c.id, error: { code: -32601, message: `method ${c.method} does not exist` } }))
        const forward = calls.filter(c => c.method !== refuse)
        const answer = async (): Promise<unknown[]> => forward.length === 0
          ? []
          : await (await fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(forward) })).json() as unknown[]
        void answer().then(answered => {
          const all = [...answered, ...refused]
          res.setHeader('content-type', 'application/json')
          res.end(JSON.stringify(Array.isArray(body) ? all : all[0]))
        })
      })
    })
    const port = await new Promise<number>(resolve => server.listen(0, '127.0.0.1', () => { resolve((server.address() as { port: number }).port) }))
    return { url: `http://127.0.0.1:${port}`, methods, close: () => { server.closeAllConnections(); server.close() } }
  }

  it('parent state reads accounts with eth_getAccount where the node has it, eth_getProof where not: same values', async () => {
    const number = BigInt(await rpc.call<string>('eth_blockNumber'))
    const accounts = ['0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', '0x5fbdb2315678afecb367f032d93f642f64180aa3', '0x00000000000000000000000000000000000000aa']
    const [modern, older] = [await proxy(), await proxy('eth_getAccount')]
    try {
      const [viaModern, viaOlder] = [new ChainRpc(modern.url), new ChainRpc(older.url)]
      const read = async (client: ChainRpc, batched: boolean): Promise<unknown[]> => {
        const state = new ParentState(client, number)
        if (batched) {
          await state.prefetch(accounts)
        }
        return Promise.all(accounts.map(async a => state.account(a)))
      }
      const expected = await read(viaModern, false)
      expect(await read(viaModern, true)).to.deep.equal(expected)
      expect(await read(viaOlder, false)).to.deep.equal(expected)
      expect(await read(viaOlder, true)).to.deep.equal(expected)
      expect(modern.methods).to.include('eth_getAccount')
      expect(modern.methods).to.not.include('eth_getProof')
      // probed once per client, then never asked again
      expect(older.methods.filter(m => m === 'eth_getAccount')).to.have.length(1)
      expect(older.methods).to.include('eth_getProof')
    } finally {
      modern.close()
      older.close()
    }
  })
})

describe('chain: parent state cache', () => {
  it('keeps one state per parent, bounded: the least recently used parent goes first', () => {
    const cache = new ParentStateCache(new ChainRpc('http://127.0.0.1:1'), 2)
    const one = cache.get(1n)
    expect(cache.get(1n)).to.equal(one)
    const two = cache.get(2n)
    expect(cache.get(1n)).to.equal(one)
    cache.get(3n)
    expect(cache.get(1n)).to.equal(one)
    expect(cache.get(2n)).to.not.equal(two)
    expect(cache.get(2n).number).to.equal(2n)
  })
})
