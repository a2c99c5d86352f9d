/**
 * The anvil oracle over 30 seeded random slots: anvil mines each slot's transactions — legacy,
 * access-list, EIP-1559 and EIP-7702 transactions, contract creations, reverts, ERC-20 transfers, some
 * of whole balances, contracts created and destroyed in one transaction — and the member's block on
 * proven state must have every header field and the hash anvil's where anvil is canonical. A slot that
 * zeroes storage or destroys a new contract runs on a fresh anvil (after it, anvil's roots stop being
 * canonical, and `evm_revert` measurably does not restore a clean state on anvil 1.7.1): there the
 * root must equal the canonical recomputation of anvil's dumped post-state, and with anvil's own root
 * put in its place the header must hash to anvil's block.
 */
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, eoaCode7702SignAuthorization, hexToBytes } from '@ethereumjs/util'
import { expect } from 'aegir/chai'
import { ChainRpc, ProvenParentCache, provenStateSource } from '../src/chain/index.ts'
import { makeCommon, simulateSlot } from '../src/core/index.ts'
import { seededRandom } from '../src/node/testnet/index.ts'
import { executionBlockHash } from '../src/proto/index.ts'
import { Anvil } from './fixtures/anvil.ts'
import { canonicalRoot, dumpState } from './fixtures/canonical-state.ts'
import { asMined, mine, prepareChain, RULES } from './fixtures/chain-workload.ts'
import type { PreparedChain } from './fixtures/chain-workload.ts'

const SEED = 20261201
const SLOTS = 30

describe('anvil oracle: 30 seeded random slots on proven state', function () {
  this.timeout(300_000)
  let anvil: Anvil
  let chain: PreparedChain

  before(async () => {
    anvil = await Anvil.start({ noMining: true, order: 'fifo' })
    chain = await prepareChain(anvil, 24, 'oracle')
  })

  after(async () => {
    await anvil?.stop()
  })

  it(`every slot's header (seed ${SEED}) is anvil's where anvil is canonical, and canonical where it is not`, async () => {
    const random = seededRandom(SEED)
    const kinds = new Map<string, number>()
    let nonCanonical = 0
    for (let slot = 0; slot < SLOTS; slot++) {
      const plan = Array.from({ length: 4 + Math.floor(random() * 5) }, () => KINDS[Math.floor(random() * KINDS.length)])
      const zeroes = plan.some(k => k === 'whole-balance' || k === 'create-destroy')
      for (const k of plan) { kinds.set(k, (kinds.get(k) ?? 0) + 1) }
      if (!zeroes) {
        const { m, result } = await runSlot(anvil, chain, plan, random)
        expect(bytesToHex(result.header.blockHash), `slot ${slot} (${plan.join(', ')}): block hash (every field)`).to.equal(m.block.hash)
        continue
      }
      nonCanonical++
      const fresh = await Anvil.start({ noMining: true, order: 'fifo' })
      try {
        const { m, result } = await runSlot(fresh, await prepareChain(fresh, 24, `oracle-${slot}`), plan, random)
        expect(bytesToHex(result.header.stateRoot), `slot ${slot} (${plan.join(', ')}): the canonical root`).to.equal(bytesToHex(await canonicalRoot(await dumpState(fresh))))
        const substituted = { ...result.header, stateRoot: hexToBytes(m.block.stateRoot as `0x${string}`) }
        expect(bytesToHex(executionBlockHash(substituted)), `slot ${slot}: every other field`).to.equal(m.block.hash)
      } finally {
        await fresh.stop()
      }
    }
    // the seed covers every kind, and both kinds of slot
    expect([...kinds.keys()].sort()).to.deep.equal([...KINDS].sort())
    expect(nonCanonical).to.be.greaterThan(0)
    expect(nonCanonical).to.be.lessThan(SLOTS)
  })
})

const KINDS = ['legacy', 'access-list', '1559', '7702', 'create', 'revert', 'token', 'whole-balance', 'create-destroy'] as const
type Kind = typeof KINDS[number]

/** Mines one slot of the planned kinds on `anvil` and simulates it on proven state. */
async function runSlot (anvil: Anvil, chain: PreparedChain, plan: Kind[], random: () => number): Promise<{ m: Awaited<ReturnType<typeof mine>>, result: Awaited<ReturnType<typeof simulateSlot>> }> {
  const w = chain.workload
  const common = makeCommon(RULES)
  const fees = { maxPriorityFeePerGas: 10n ** 9n, maxFeePerGas: 10n ** 11n }
  // each key sends or authorizes at most once a slot
  const keys = [...w.keys.keys()].sort(() => random() - 0.5)
  const txs: Uint8Array[] = []
  for (const [i, kind] of plan.entries()) {
    const from = keys[2 * i]
    const other = keys[2 * i + 1]
    const to = w.addresses[other] as `0x${string}`
    const base = { chainId: 31337n, nonce: w.nonces[from]++, gasLimit: 300_000n, value: BigInt(Math.floor(random() * 1000)) }
    if (kind === 'legacy') {
      txs.push(createTx({ type: 0, ...base, gasPrice: 10n ** 11n, to }, { common }).sign(w.keys[from]).serialize())
    } else if (kind === 'access-list') {
      const call = { to: chain.token as `0x${string}`, value: 0n, data: hexToBytes(`0x70a08231${w.addresses[other].slice(2).padStart(64, '0')}`) }
      txs.push(createTx({ type: 1, ...base, ...call, gasPrice: 10n ** 11n, accessList: [{ address: chain.token as `0x${string}`, storageKeys: [`0x${'00'.repeat(31)}01`] }] }, { common }).sign(w.keys[from]).serialize())
    } else if (kind === '1559') {
      txs.push(createTx({ type: 2, ...base, ...fees, to }, { common }).sign(w.keys[from]).serialize())
    } else if (kind === '7702') {
      // the other key delegates its code to the token contract (the authority sends nothing itself)
      const auth = eoaCode7702SignAuthorization({ chainId: '0x7a69', address: chain.token as `0x${string}`, nonce: `0x${w.nonces[other].toString(16)}` }, w.keys[other])
      w.nonces[other]++
      txs.push(createTx({ type: 4, ...base, ...fees, to, authorizationList: [auth] }, { common }).sign(w.keys[from]).serialize())
    } else if (kind === 'create') {
      // init code that stores 42 at slot 0 and returns an empty runtime
      txs.push(createTx({ type: 2, ...base, ...fees, data: hexToBytes('0x602a60005560006000f3') }, { common }).sign(w.keys[from]).serialize())
    } else if (kind === 'revert') {
      txs.push(w.tokenTransfer(from, chain.token, to, 10n ** 30n, fees))
    } else if (kind === 'token') {
      txs.push(w.tokenTransfer(from, chain.token, to, BigInt(1 + Math.floor(random() * 100)), fees))
    } else if (kind === 'whole-balance') {
      const held = BigInt(await anvil.rpc<string>('eth_call', [{ to: chain.token, data: `0x70a08231${w.addresses[from].slice(2).padStart(64, '0')}` }, 'latest']))
      txs.push(w.tokenTransfer(from, chain.token, to, held, fees))
    } else {
      // SSTORE(0, 1), then SELFDESTRUCT to the caller: created and destroyed in one transaction
      txs.push(createTx({ type: 2, ...base, ...fees, data: hexToBytes('0x600160005533ff') }, { common }).sign(w.keys[from]).serialize())
    }
  }
  const m = await mine(anvil, txs)
  const result = await simulateSlot(asMined(m), RULES, provenStateSource(await new ProvenParentCache(new ChainRpc(anvil.url)).get(m.parent.hash)))
  expect(result.included.map(t => t.status), `statuses (${plan.join(', ')})`).to.deep.equal(m.receipts.map(r => Number(BigInt(r.status))))
  expect(bytesToHex(result.header.receiptsRoot), 'receipts root').to.equal(m.block.receiptsRoot)
  return { m, result }
}
