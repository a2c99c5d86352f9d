/**
 * What the core says about what it leaves out: a replaced transaction (same sender and nonce) loses to
 * the one paying more whatever their hashes, and every refusal names its real cause, in geth's words.
 * Real ethereumjs execution on an in-memory parent state.
 */
import { createTx } from '@ethereumjs/tx'
import { expect } from 'aegir/chai'
import { keccak256, makeCommon, simulateSlot } from '../src/core/index.ts'
import { Workload } from '../src/node/workload/workload.ts'
import { MAX_CANDIDATE_BLOCK_BYTES, toHex } from '../src/proto/index.ts'
import { memoryStateSource } from './fixtures/memory-state.ts'
import { RULES } from './fixtures/slots.ts'
import type { SlotInputs, SlotResult } from '../src/core/index.ts'

const BASE_FEE = 1_000_000_000n
const keys = Array.from({ length: 4 }, (_, i) => new Uint8Array(32).fill(i + 51))
const common = makeCommon(RULES)

async function simulate (unsealed: Uint8Array[], funded: string[], hints: SlotInputs['hints'] = []): Promise<SlotResult> {
  const inputs: SlotInputs = {
    parent: { number: 10n, hash: new Uint8Array(32).fill(1), timestamp: 1_750_000_000n, gasLimit: 30_000_000n, gasUsed: 15_000_000n, baseFeePerGas: BASE_FEE },
    env: { timestamp: 1_750_000_012n, feeRecipient: new Uint8Array(20).fill(0xfe), prevRandao: new Uint8Array(32), gasLimit: 30_000_000n },
    hints,
    unsealed
  }
  return simulateSlot(inputs, RULES, memoryStateSource(funded))
}

const hashOf = (raw: Uint8Array): string => `0x${toHex(keccak256(raw))}`

describe('core: replacements and exclusion reasons', function () {
  this.timeout(30_000)

  it('of two transactions with one sender and nonce, the higher fee wins, even when the cheaper one\'s hash sorts first', async () => {
    const w = new Workload(common, keys)
    const cheap = { maxPriorityFeePerGas: 1_000_000_000n, maxFeePerGas: 3_000_000_000n }
    const dear = { maxPriorityFeePerGas: 2_000_000_000n, maxFeePerGas: 4_000_000_000n }
    const high = w.ethTransfer(0, w.addresses[1], 1n, dear)
    // the cheap replacement whose hash sorts below the dear one's (the case a hash-first rule gets wrong)
    let low: Uint8Array | undefined
    for (let value = 2n; value < 200n && low == null; value++) {
      w.nonces[0] = 0n
      const candidate = w.ethTransfer(0, w.addresses[1], value, cheap)
      if (hashOf(candidate) < hashOf(high)) { low = candidate }
    }
    expect(low, 'a cheaper replacement with a lower hash').to.not.equal(undefined)
    const next = w.ethTransfer(0, w.addresses[2], 5n, cheap) // nonce 1, after the replaced pair
    for (const pool of [[low as Uint8Array, high, next], [next, high, low as Uint8Array]]) {
      const r = await simulate(pool, w.addresses)
      expect(r.included.map(t => t.hash)).to.deep.equal([hashOf(high), hashOf(next)])
      const lost = r.excluded.find(e => e.hash === hashOf(low as Uint8Array))
      expect(lost?.reason).to.equal(`replaced by ${hashOf(high)} (same sender and nonce, higher fee)`)
      expect(lost?.outlook, 'a replaced rival: no block takes it').to.equal('never')
    }
  })

  it('a state read that fails fails the slot: the transaction reading is never excluded for it', async () => {
    const w = new Workload(common, keys)
    const fees = { maxPriorityFeePerGas: 1_000_000_000n, maxFeePerGas: 3_000_000_000n }
    const tx = w.ethTransfer(0, w.addresses[1], 1n, fees)
    const memory = memoryStateSource(w.addresses)
    const stalled = Object.assign(new Error('eth_getProof: timed out after 10000 ms'), { code: 'rpc-timeout' })
    const failing = {
      ...memory,
      stateManager: (c: Parameters<typeof memory.stateManager>[0]) => {
        const sm = memory.stateManager(c)
        const getAccount = sm.getAccount.bind(sm)
        sm.getAccount = async a => {
          if (a.toString() === w.addresses[1].toLowerCase()) { throw stalled }
          return getAccount(a)
        }
        return sm
      }
    }
    const inputs: SlotInputs = {
      parent: { number: 10n, hash: new Uint8Array(32).fill(1), timestamp: 1_750_000_000n, gasLimit: 30_000_000n, gasUsed: 15_000_000n, baseFeePerGas: BASE_FEE },
      env: { timestamp: 1_750_000_012n, feeRecipient: new Uint8Array(20).fill(0xfe), prevRandao: new Uint8Array(32), gasLimit: 30_000_000n },
      hints: [],
      unsealed: [tx]
    }
    const err = await simulateSlot(inputs, RULES, failing).then(() => undefined, (e: unknown) => e)
    expect(err).to.equal(stalled)
  })

  it('the committee\'s block size cap (one gossip frame, under EIP-7934\'s): transactions past it are left out, with the cap named', async () => {
    const w = new Workload(common, Array.from({ length: 40 }, (_, i) => new Uint8Array(32).fill(i + 101)))
    const data = new Uint8Array(130_000) // zero bytes: the cheapest calldata, 10 gas a byte under EIP-7623's floor
    const txs = w.keys.map((_, i) => createTx({ type: 2, chainId: 31337n, nonce: 0n, gasLimit: 1_400_000n, maxFeePerGas: 3_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, to: w.addresses[0] as `0x${string}`, value: 0n, data }, { common }).sign(w.keys[i]).serialize())
    const r = await simulateSlot({
      parent: { number: 10n, hash: new Uint8Array(32).fill(1), timestamp: 1_750_000_000n, gasLimit: 200_000_000n, gasUsed: 100_000_000n, baseFeePerGas: BASE_FEE },
      env: { timestamp: 1_750_000_012n, feeRecipient: new Uint8Array(20).fill(0xfe), prevRandao: new Uint8Array(32), gasLimit: 200_000_000n },
      hints: [],
      unsealed: txs
    }, RULES, memoryStateSource(w.addresses))
    const bytes = r.body.reduce((n, raw) => n + raw.length, 0)
    expect(r.body.length, 'most of them fit').to.be.at.least(25)
    expect(bytes).to.be.at.most(MAX_CANDIDATE_BLOCK_BYTES)
    const capped = r.excluded.filter(e => /block size cap/.test(e.reason))
    expect(capped.length, 'the rest are left out for the cap').to.equal(txs.length - r.body.length)
    expect(capped[0].reason).to.equal(`block size cap reached (${MAX_CANDIDATE_BLOCK_BYTES} bytes of RLP, the committee's: its candidate must fit one gossip frame)`)
    expect(new Set(capped.map(e => e.outlook)), 'no room: the next block may have it').to.deep.equal(new Set(['room']))
  })

  it('names intrinsic gas, a nonce gap, a spent nonce and missing funds as such, and which of them a later parent may take', async () => {
    const w = new Workload(common, keys)
    const fees = { maxPriorityFeePerGas: 1_000_000_000n, maxFeePerGas: 3_000_000_000n }
    const tooLittleGas = w.ethTransfer(0, w.addresses[1], 1n, { ...fees, gasLimit: 20_000n })
    w.nonces[1] = 3n
    const gap = w.ethTransfer(1, w.addresses[0], 1n, fees)
    const unfunded = w.ethTransfer(2, w.addresses[0], 1n, fees)
    // a hint spends sender 3's nonce 0 first: the pool's own nonce 0 of that sender comes too late
    const hinted = w.ethTransfer(3, w.addresses[0], 1n, fees)
    w.nonces[3] = 0n
    const spent = w.ethTransfer(3, w.addresses[0], 2n, fees)
    const r = await simulate([tooLittleGas, gap, unfunded, spent], [w.addresses[0], w.addresses[1], w.addresses[3]], [{ id: new Uint8Array(32).fill(7), bundle: { txs: [hinted], revertProtected: false } }])
    expect(r.body).to.deep.equal([hinted])
    const of = (raw: Uint8Array): [string, string] | undefined => {
      const e = r.excluded.find(e => e.hash === hashOf(raw))
      return e == null ? undefined : [e.reason, e.outlook]
    }
    expect(of(tooLittleGas)).to.deep.equal(['intrinsic gas too low: gas 20000, minimum needed 21000', 'never'])
    expect(of(gap)).to.deep.equal(['nonce too high: next nonce 0, tx nonce 3', 'state'])
    expect(of(unfunded)).to.deep.equal(['insufficient funds for gas * price + value', 'state'])
    expect(of(spent)).to.deep.equal(['nonce too low: next nonce 1, tx nonce 0', 'never'])
  })
})
