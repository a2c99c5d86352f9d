import { createLegacyTx } from '@ethereumjs/tx'
import { hexToBytes } from '@ethereumjs/util'
import { expect } from 'aegir/chai'
import { ProvenParentCache } from '../src/chain/index.ts'
import { forgetDecoded, makeCommon, txDecoder } from '../src/core/index.ts'
import { InputPool, TxGate, TxRefusal } from '../src/node/index.ts'
import { describeTx, gateState } from '../src/node/member/gate-state.ts'
import { Workload } from '../src/node/workload/workload.ts'
import { ANVIL_KEYS } from './fixtures/anvil.ts'
import { anvilChain, RULES } from './fixtures/chain-workload.ts'
import type { RpcBlock } from '../src/chain/index.ts'
import type { GatedTx } from '../src/node/index.ts'

describe('node: the transaction gate against a real chain (anvil)', function () {
  this.timeout(60_000)
  const fx = anvilChain(2)
  let head: RpcBlock
  let gate: TxGate
  let parents: ProvenParentCache
  const common = makeCommon(RULES)

  before(async () => {
    head = await fx.anvil.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    parents = new ProvenParentCache(fx.rpc)
    gate = new TxGate({ rules: () => RULES, head: () => head, state: async h => gateState(await parents.get(h.hash)) })
  })

  const refusal = async (raw: Uint8Array): Promise<TxRefusal> => {
    const [r] = await gate.admit([raw])
    expect(r, 'expected a refusal').to.be.instanceOf(TxRefusal)
    return r as TxRefusal
  }

  it('lets through a funded sender\'s next transaction and says, in geth\'s words, why every bad one is refused', async () => {
    // anvil's first dev key deployed the token: its nonce is past 0
    const w = new Workload(common, [ANVIL_KEYS[0]])
    w.addresses.push(fx.chain.workload.addresses[1])
    const stateNonce = BigInt(await fx.anvil.rpc<string>('eth_getTransactionCount', [w.addresses[0], 'latest']))
    w.nonces[0] = stateNonce
    const [ok] = await gate.admit([w.ethTransfer(0, w.addresses[1], 1n)])
    expect(ok).to.not.be.instanceOf(TxRefusal)
    expect((ok as GatedTx).stateNonce).to.equal(stateNonce)

    const stranger = new Workload(common, [hexToBytes(`0x${'42'.repeat(32)}`)])
    expect((await refusal(stranger.ethTransfer(0, w.addresses[1], 1n))).message).to.match(/^insufficient funds for gas \* price \+ value: address 0x[0-9a-f]{40} have 0 want \d+$/)

    w.nonces[0] = stateNonce - 1n
    expect((await refusal(w.ethTransfer(0, w.addresses[1], 1n))).message).to.equal(`nonce too low: address ${w.addresses[0]}, tx: ${stateNonce - 1n} state: ${stateNonce}`)
    w.nonces[0] = stateNonce

    expect((await refusal(w.ethTransfer(0, w.addresses[1], 1n, { gasLimit: 20_000n }))).message).to.equal('intrinsic gas too low: gas 20000, minimum needed 21000')
    // signed under Prague, which had no EIP-7825 cap
    const prague = new Workload(makeCommon({ chainId: 31337, hardfork: 'prague' }), [w.keys[0]], [stateNonce])
    expect((await refusal(prague.ethTransfer(0, w.addresses[1], 1n, { gasLimit: 16_777_217n }))).message).to.match(/^transaction gas limit too high: gas limit over the EIP-7825 cap/)
    // anvil's blocks take 30M gas: a head with a small gas limit shows the block bound
    const small = new TxGate({ rules: () => RULES, head: () => ({ ...head, gasLimit: '0x7530' }), state: async h => gateState(await parents.get(h.hash)) })
    const [big] = await small.admit([w.ethTransfer(0, w.addresses[1], 1n, { gasLimit: 30_001n })])
    expect((big as TxRefusal).message).to.equal('exceeds block gas limit: gas 30001, block gas limit 30000')
    expect((await refusal(w.ethTransfer(0, w.addresses[1], 1n, { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }))).message).to.match(/^max fee per gas less than block base fee: address 0x[0-9a-f]{40}, maxFeePerGas: 1, baseFee: \d+$/)

    const otherChain = new Workload(makeCommon({ chainId: 1, hardfork: RULES.hardfork }), [w.keys[0]])
    expect((await refusal(otherChain.ethTransfer(0, w.addresses[1], 1n))).message).to.match(/^invalid chain id for signer/)
    expect((await refusal(Uint8Array.of(0x05, 0xc0))).message).to.match(/^transaction type not supported/)
    expect((await refusal(Uint8Array.of(0x02, 0xc0))).code).to.equal('malformed')
    expect((await refusal(new Uint8Array(200_000))).message).to.equal('oversized data: transaction size 200000, limit 131072')
    const unsigned = createLegacyTx({ nonce: 0, gasLimit: 21_000, gasPrice: 10n ** 10n, to: w.addresses[1] as `0x${string}` }, { common }).serialize()
    expect((await refusal(unsigned)).code).to.equal('signature')
  })

  it('a batch of unfunded senders is refused in one pass, and none of it reaches the pool', async () => {
    const strangers = new Workload(common, Array.from({ length: 50 }, (_, i) => hexToBytes(`0x${(i + 1).toString(16).padStart(64, '0')}`)))
    const raws = strangers.keys.map((_, i) => strangers.ethTransfer(i, fx.chain.workload.addresses[0], 1n))
    const parent = await parents.get(head.hash)
    const before = parent.requests
    const outcomes = await gate.admit(raws)
    // fifty senders, proven in one batch of the chain RPC (not fifty round trips)
    expect(parent.requests - before).to.be.at.most(2)
    expect(outcomes.every(o => o instanceof TxRefusal && o.code === 'insufficient-funds')).to.equal(true)
    const pool = new InputPool()
    for (const o of outcomes) { if (!(o instanceof TxRefusal)) { pool.admit(o) } }
    expect(pool.size).to.equal(0)
  })

  it('the pool keeps one transaction per sender and nonce, a future nonce aside until its gap fills, and a replacement pays 10 % more', async () => {
    const w = new Workload(common, [fx.chain.workload.keys[1]])
    const stateNonce = BigInt(await fx.anvil.rpc<string>('eth_getTransactionCount', [w.addresses[0], 'latest']))
    const at = async (nonce: bigint, tip = 1_000_000_000n): Promise<GatedTx> => {
      w.nonces[0] = nonce
      const [g] = await gate.admit([w.ethTransfer(0, fx.chain.workload.addresses[0], 1n, { maxPriorityFeePerGas: tip, maxFeePerGas: tip * 100n })])
      expect(g).to.not.be.instanceOf(TxRefusal)
      return g as GatedTx
    }
    const pool = new InputPool()
    const second = await at(stateNonce + 1n)
    expect(pool.admit(second)).to.deep.equal([]) // a gap below: kept aside, not offered
    expect(pool.size).to.equal(0)
    expect(pool.queued).to.equal(1)
    const first = await at(stateNonce)
    expect(pool.admit(first)).to.deep.equal([first.decoded.raw, second.decoded.raw])
    expect(pool.unsealedFor()).to.have.length(2)
    expect(() => pool.admit(first)).to.throw(TxRefusal, 'already known')
    expect(() => pool.admit(second)).to.throw(TxRefusal, 'already known')
    const cheap = await at(stateNonce, 1_050_000_000n)
    expect(() => pool.admit(cheap)).to.throw(TxRefusal, /^replacement transaction underpriced/)
    const better = await at(stateNonce, 2_000_000_000n)
    expect(pool.admit(better)).to.deep.equal([better.decoded.raw])
    expect(pool.size).to.equal(2)
    expect(pool.unsealedFor().map(r => r.length)).to.have.length(2)
    // reserved by a slot: no replacement any more
    pool.reserve(7, pool.unsealedFor())
    const late = await at(stateNonce, 9_000_000_000n)
    expect(() => pool.admit(late)).to.throw(TxRefusal, /is in a sealed or open slot already/)
  })
  it('a kept-aside transaction follows its predecessor when that only reaches this member inside a slot\'s opening or a sealed block (a relay later than the opening is not taken)', async () => {
    const w = new Workload(common, [fx.chain.workload.keys[1]])
    const stateNonce = BigInt(await fx.anvil.rpc<string>('eth_getTransactionCount', [w.addresses[0], 'latest']))
    const gated = async (nonce: bigint): Promise<GatedTx> => {
      w.nonces[0] = nonce
      const [g] = await gate.admit([w.ethTransfer(0, fx.chain.workload.addresses[0], 1n)])
      if (g instanceof TxRefusal) { throw g }
      return g
    }
    const [first, second, third] = [await gated(stateNonce), await gated(stateNonce + 1n), await gated(stateNonce + 2n)]
    for (const via of ['opening', 'block'] as const) {
      const promoted: Uint8Array[][] = []
      const pool = new InputPool({ describe: raw => describeTx(raw, RULES), onPromoted: raws => { promoted.push(raws) } })
      expect(pool.admit(second)).to.deep.equal([])
      expect(pool.queued, via).to.equal(1)
      // the predecessor never came to this member on its own, and comes after its slot opened
      if (via === 'opening') { pool.reserve(40, [first.decoded.raw]) } else { pool.settle(40, [first.decoded.raw], { number: 9, hash: '0x09' }) }
      expect(pool.addTransactions([first.decoded.raw]), `${via}: a relay of a fixed transaction`).to.deep.equal([])
      expect(pool.queued, via).to.equal(0)
      expect(pool.unsealedFor(), `${via}: offered to the next slot`).to.deep.equal([second.decoded.raw])
      expect(promoted, `${via}: relayed on`).to.deep.equal([[second.decoded.raw]])
      // and the sender's next nonce counts the fixed one: its successor's successor goes straight in
      expect(pool.admit(third), via).to.deep.equal([third.decoded.raw])
    }
  })

  it('a submission checked against a head older than the block that spent its predecessor goes into the pool, not aside', async () => {
    const w = new Workload(common, [fx.chain.workload.keys[1]])
    const stateNonce = BigInt(await fx.anvil.rpc<string>('eth_getTransactionCount', [w.addresses[0], 'latest']))
    const gated = async (nonce: bigint, value: bigint): Promise<GatedTx> => {
      w.nonces[0] = nonce
      const [g] = await gate.admit([w.ethTransfer(0, fx.chain.workload.addresses[0], value)])
      if (g instanceof TxRefusal) { throw g }
      return g
    }
    // both checked against the same head: the second's state nonce is the first's
    const [first, second] = [await gated(stateNonce, 1n), await gated(stateNonce + 1n, 1n)]
    expect(second.stateNonce).to.equal(stateNonce)
    const pool = new InputPool({ describe: raw => describeTx(raw, RULES) })
    pool.admit(first)
    pool.reserve(60, [first.decoded.raw])
    pool.settle(60, [first.decoded.raw], { number: 9, hash: '0x09' })
    pool.onHead({ number: 9, hash: '0x09', parentHash: '0x08' })
    expect(pool.admit(second), 'its predecessor is on chain: offered, not kept aside').to.deep.equal([second.decoded.raw])
    expect(pool.queued).to.equal(0)
  })

  it('a spent transaction leaves the process decoder with the pool (its decoded form is not held for the LRU)', async () => {
    const w = new Workload(common, [fx.chain.workload.keys[0]])
    w.addresses.push(fx.chain.workload.addresses[1])
    w.nonces[0] = BigInt(await fx.anvil.rpc<string>('eth_getTransactionCount', [w.addresses[0], 'latest']))
    const [a, b] = await gate.admit([w.ethTransfer(0, w.addresses[1], 1n), w.ethTransfer(0, w.addresses[1], 2n)])
    if (a instanceof TxRefusal || b instanceof TxRefusal) { throw new Error(`refused: ${String(a)} ${String(b)}`) }
    const decoder = txDecoder(RULES)
    expect(decoder.has(a.decoded.hash) && decoder.has(b.decoded.hash), 'the gate decoded both').to.equal(true)
    const gone: string[] = []
    const pool = new InputPool({ onGone: hash => { gone.push(hash); forgetDecoded(`0x${hash}`) } })
    pool.admit(a)
    pool.admit(b)
    pool.reserve(3, [a.decoded.raw, b.decoded.raw])
    // sealed with the first only: the first is spent; the second, which this member's simulation of
    // that block found no block can take, goes with the slot
    pool.settle(3, [a.decoded.raw], undefined, new Map([[b.decoded.hash.slice(2), 'never']]))
    expect(gone.map(h => `0x${h}`).sort()).to.deep.equal([a.decoded.hash, b.decoded.hash].sort())
    expect(decoder.has(a.decoded.hash) || decoder.has(b.decoded.hash)).to.equal(false)
  })
})
