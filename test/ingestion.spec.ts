import { expect } from 'aegir/chai'
import { keccak256, takeTransaction } from '../src/core/index.ts'
import { InputPool, MAX_BATCH_CALLS, MAX_BID_HORIZON_SLOTS, MAX_BODY_BYTES, MAX_LEFT_OUT, TxRefusal } from '../src/node/index.ts'
import { toHex } from '../src/proto/index.ts'
import { ingestionEndpoint } from './fixtures/ingestion-endpoint.ts'
import type { TestEndpoint } from './fixtures/ingestion-endpoint.ts'
import type { AuctionBidValue } from '../src/proto/index.ts'

describe('node: ingestion endpoint and input pool', () => {
  let endpoint: TestEndpoint
  let url: string
  const txs: Uint8Array[][] = []
  const RULES = { chainId: 31337, hardfork: 'osaka' }
  const bids: AuctionBidValue[] = []

  before(async () => {
    endpoint = await ingestionEndpoint({
      take: raw => takeTransaction(raw, RULES),
      // the gate's stand-in: 0x0bad is refused as the gate refuses, the rest taken
      transactions: t => {
        txs.push(t.map(x => x.canonical))
        return t.map(x => toHex(x.canonical) === '0bad' ? new TxRefusal('nonce-too-low', 'nonce too low: address 0x01, tx: 0 state: 1') : `0x${toHex(keccak256(x.canonical))}`)
      },
      currentSlot: () => 1000,
      bid: b => { bids.push(b) },
      slotOfBlock: n => {
        if (n <= 5) { throw new Error(`block ${n} is already on chain (the head is 5)`) }
        return n + 1000
      }
    }, 5000)
    url = endpoint.url
  })

  after(async () => { await endpoint.close() })

  const rpc = async (body: unknown): Promise<any> => endpoint.rpc(body)

  it('takes raw transactions, bundles and auction winners; answers batches', async () => {
    const one = await rpc({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: ['0x02c0'] })
    expect(one.result).to.match(/^0x[0-9a-f]{64}$/)
    expect(txs.at(-1)).to.deep.equal([Uint8Array.of(2, 0xc0)])
    const many = await rpc([{ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: ['0x01'] }, { jsonrpc: '2.0', id: 2, method: 'eth_sendBundle', params: [{ txs: ['0x0a', '0x0b'], revertProtected: true, blockNumber: '0x10' }] }])
    expect(many).to.have.length(2)
    // a block number names the slot that builds it (here: 1000 slots ahead of block numbers)
    expect(bids.at(-1)).to.deep.include({ slot: 1016, winner: false })
    expect(bids.at(-1)?.bundle.revertProtected).to.equal(true)
    await rpc({ jsonrpc: '2.0', id: 3, method: 'atelier_setAuctionWinner', params: [{ txs: ['0x0c'], slot: 1017 }] })
    expect(bids.at(-1)).to.deep.include({ slot: 1017, winner: true })
  })

  it('rejects bad input with JSON-RPC errors, never a crash', async () => {
    expect((await rpc({ id: 1, method: 'eth_sendRawTransaction', params: ['nothex'] })).error.code).to.equal(-32602)
    expect((await rpc({ id: 1, method: 'eth_sendBundle', params: [{ txs: [] }] })).error.code).to.equal(-32602)
    const past = await rpc({ id: 1, method: 'eth_sendBundle', params: [{ txs: ['0x0a'], blockNumber: '0x3' }] })
    expect(past.error).to.deep.equal({ code: -32602, message: 'bundle: block 3 is already on chain (the head is 5)' })
    expect((await rpc({ id: 1, method: 'eth_sendBundle', params: [{ txs: ['0x0a'], slot: 'soon' }] })).error.code).to.equal(-32602)
    expect((await rpc({ id: 1, method: 'nope' })).error.code).to.equal(-32601)
    expect((await rpc({ id: 1, method: 'eth_sendBundle', params: [{ txs: ['0x0a'], blockNumber: 'abc' }] })).error).to.deep.equal({ code: -32602, message: 'bundle: blockNumber: expected a non-negative quantity (a number or 0x-hex)' })
    expect((await rpc({ id: 1, method: 'eth_sendBundle', params: [{ txs: ['0x0a'], slot: 1001, revertProtected: 'yes' }] })).error).to.deep.equal({ code: -32602, message: 'bundle: revertProtected: expected a boolean' })
    const far = await rpc({ id: 1, method: 'eth_sendBundle', params: [{ txs: ['0x0a'], slot: 1001 + MAX_BID_HORIZON_SLOTS }] })
    expect(far.error.code).to.equal(-32602)
    expect(far.error.message).to.match(/^bundle: slot \d+ is past the bid horizon \(the slot now is 1000;/)
    expect((await rpc({ id: 1, method: 'eth_sendBundle', params: [{ txs: ['0x0a'], slot: 999 }] })).error.message).to.equal('bundle: slot 999 has passed (the slot now is 1000)')
    const res = await fetch(url, { method: 'POST', body: '{not json', signal: AbortSignal.timeout(5000) })
    expect((await res.json()).error.code).to.equal(-32700)
  })

  it('a transaction the gate refuses gets geth\'s error; every call past the batch limit gets an error entry; an oversized body gets 413', async () => {
    expect((await rpc({ jsonrpc: '2.0', id: 9, method: 'eth_sendRawTransaction', params: ['0x0bad'] }))).to.deep.equal({ jsonrpc: '2.0', id: 9, error: { code: -32000, message: 'nonce too low: address 0x01, tx: 0 state: 1' } })
    const calls = Array.from({ length: MAX_BATCH_CALLS + 3 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_sendRawTransaction', params: [i === 1 ? '0x0bad' : `0x02${(i % 256).toString(16).padStart(2, '0')}`] }))
    const replies = await rpc(calls)
    expect(replies).to.have.length(MAX_BATCH_CALLS + 3)
    expect(replies[0].result).to.match(/^0x[0-9a-f]{64}$/)
    expect(replies[1].error.code).to.equal(-32000)
    expect(replies.slice(MAX_BATCH_CALLS).map((r: any) => [r.id, r.error.code])).to.deep.equal([[MAX_BATCH_CALLS, -32600], [MAX_BATCH_CALLS + 1, -32600], [MAX_BATCH_CALLS + 2, -32600]])
    // the run of raw transactions went through the gate in one call
    expect(txs.at(-1)).to.have.length(MAX_BATCH_CALLS)
    const res = await fetch(url, { method: 'POST', body: `["${'0'.repeat(MAX_BODY_BYTES)}"]`, signal: AbortSignal.timeout(10_000) })
    expect(res.status).to.equal(413)
  })

  it('pool: a transaction lands in at most one slot; released when its slot is abandoned', () => {
    const pool = new InputPool()
    const [a, b] = [Uint8Array.of(1, 1), Uint8Array.of(2, 2)]
    expect(pool.addTransactions([a, b, a])).to.have.length(2)
    pool.reserve(5, [a])
    expect(pool.unsealedFor().map(toHex)).to.deep.equal([toHex(b)])
    expect(pool.addTransactions([a])).to.have.length(0)
    pool.settle(5, [a])
    expect(pool.addTransactions([a])).to.have.length(0)
    pool.reserve(6, [b])
    pool.release(6, [b])
    expect(pool.unsealedFor().map(toHex)).to.deep.equal([toHex(b)])
    pool.addBid({ slot: 7, bundle: { txs: [a], revertProtected: false }, winner: false })
    pool.addBid({ slot: 7, bundle: { txs: [a, b], revertProtected: false }, winner: false })
    expect(pool.auctionWinnerFor(7)?.txs).to.have.length(2)
    pool.addBid({ slot: 7, bundle: { txs: [b], revertProtected: true }, winner: true })
    expect(pool.auctionWinnerFor(7)?.revertProtected).to.equal(true)
  })

  it('a sealed slot\'s transactions wait for the chain: spent when its block is the chain\'s, back in the pool when the chain took another', () => {
    const pool = new InputPool()
    const [a, b, c] = [Uint8Array.of(2, 0xc1, 1), Uint8Array.of(2, 0xc1, 2), Uint8Array.of(2, 0xc1, 3)]
    pool.addTransactions([a, b, c])
    pool.reserve(7, [a, b])
    // sealed with a alone, and nothing known here of why b is not in it (another opening of slot 7
    // won, or this member had not simulated it yet): b is back in the pool
    pool.settle(7, [a], { number: 100, hash: '0xaa' })
    expect(pool.unsealedFor()).to.deep.equal([c, b])
    pool.reserve(8, [b, c])
    pool.settle(8, [b, c], { number: 101, hash: '0xcc' })
    expect(pool.size).to.equal(0)
    expect(pool.awaitingChain).to.equal(3)
    // relayed again while it waits: not taken
    expect(pool.addTransactions([a])).to.have.length(0)
    // block 100 is the candidate's: a is spent for good
    pool.onHead({ number: 100, hash: '0xaa', parentHash: '0x99' })
    expect(pool.awaitingChain).to.equal(2)
    expect(pool.addTransactions([a])).to.have.length(0)
    // the chain's block 101 is another (a fallback): b and c go back to the pool
    pool.onHead({ number: 101, hash: '0xfb', parentHash: '0xaa' })
    expect(pool.awaitingChain).to.equal(0)
    expect(pool.unsealedFor()).to.deep.equal([b, c])
  })

  it('where the chain\'s block lists its transactions, what it carries is spent whatever its hash (anvil\'s headers differ from the candidate\'s), the rest goes back', () => {
    const pool = new InputPool()
    const [a, b] = [Uint8Array.of(2, 0xe1, 1), Uint8Array.of(2, 0xe1, 2)]
    pool.addTransactions([a, b])
    pool.reserve(9, [a, b])
    pool.settle(9, [a, b], { number: 200, hash: '0xcandidate' })
    pool.onHead({ number: 200, hash: '0xanother', parentHash: '0x199', transactions: [`0x${toHex(keccak256(a)).toUpperCase()}`] })
    expect(pool.awaitingChain).to.equal(0)
    expect(pool.unsealedFor(), 'the one the block did not carry').to.deep.equal([b])
    expect(pool.addTransactions([a]), 'spent: a relay does not bring it back').to.deep.equal([])
  })

  it('a transaction the sealed block left out goes back to the pool unless this member\'s simulation of that block found no block can take it; invalid on its parent in MAX_LEFT_OUT sealed slots, it goes; for want of room it stays', () => {
    const gone: string[] = []
    const pool = new InputPool({ onGone: h => { gone.push(h) } })
    const [kept, full, never, later] = [1, 2, 3, 4].map(i => Uint8Array.of(2, 0xd0, i))
    const h = (raw: Uint8Array): string => toHex(keccak256(raw))
    const outlooks = new Map([[h(full), 'room'], [h(never), 'never'], [h(later), 'state']] as const)
    pool.addTransactions([kept, full, never, later])
    let slot = 10
    pool.reserve(slot, [kept, full, never, later])
    pool.settle(slot, [kept], undefined, outlooks)
    expect(gone, 'spent, and the one no block can take').to.deep.equal([h(kept), h(never)])
    expect(pool.unsealedFor()).to.deep.equal([full, later])
    for (let n = 2; n <= MAX_LEFT_OUT; n++) {
      pool.reserve(++slot, [full, later])
      pool.settle(slot, [], undefined, outlooks)
      expect(pool.unsealedFor(), `left out ${n} times`).to.deep.equal(n < MAX_LEFT_OUT ? [full, later] : [full])
    }
    expect(gone.at(-1)).to.equal(h(later))
    // the one that waited for room goes into the next block that has it
    pool.reserve(++slot, [full])
    pool.settle(slot, [full], undefined, outlooks)
    expect(pool.size).to.equal(0)
  })
})
