import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js'
import { expect } from 'aegir/chai'
import fc from 'fast-check'
import { decodeTransaction, effectiveTip, makeCommon, orderPool, TxDecoder } from '../src/core/index.ts'
import { Workload } from '../src/node/workload/workload.ts'
import type { DecodedTx } from '../src/core/index.ts'

const common = makeCommon({ chainId: 31337, hardfork: 'bpo1' })
const BASE_FEE = 1_000_000_000n

/** A fixed universe of pool transactions: 6 senders, up to 5 nonces each, varied fees. */
function universe (): DecodedTx[] {
  const w = new Workload(common, Array.from({ length: 6 }, (_, i) => new Uint8Array(32).fill(i + 11)))
  const out: DecodedTx[] = []
  for (let nonce = 0; nonce < 5; nonce++) {
    for (let s = 0; s < 6; s++) {
      const tip = BigInt(((s * 7 + nonce * 3) % 5)) * 1_000_000_000n
      const raw = w.ethTransfer(s, w.addresses[(s + 1) % 6], BigInt(nonce), { maxPriorityFeePerGas: tip, maxFeePerGas: BASE_FEE + 3_000_000_000n })
      const d = decodeTransaction(raw, common, keccak256)
      if (!d.ok) { throw new Error(d.reason) }
      out.push(d.value)
    }
  }
  return out
}

const ALL = universe()
const hashes = (txs: DecodedTx[]): string[] => txs.map(t => t.hash)

/**
 * Greedy optimality: whatever was already eligible when position i was filled (its sender's previous
 * nonce placed earlier) and comes later has a lower tip, or the same tip and a larger hash.
 */
function expectGreedy (ordered: DecodedTx[]): void {
  const placedBefore = (t: DecodedTx, i: number): boolean => {
    const previous = ordered.slice(0, ordered.indexOf(t)).filter(u => u.sender === t.sender).at(-1)
    return previous == null || ordered.indexOf(previous) < i
  }
  for (let i = 0; i < ordered.length; i++) {
    const tipI = effectiveTip(ordered[i].tx, BASE_FEE)
    for (const t of ordered.slice(i + 1)) {
      if (t.sender === ordered[i].sender || !placedBefore(t, i)) {
        continue
      }
      const tipJ = effectiveTip(t.tx, BASE_FEE)
      expect(tipJ < tipI || (tipJ === tipI && t.hash > ordered[i].hash), `${t.hash} should not follow position ${i}`).to.equal(true)
    }
  }
}

describe('core: canonical ordering', () => {
  it('is a pure function of the input set, whatever the arrival order (property)', () => {
    fc.assert(fc.property(
      fc.subarray(ALL.map((_, i) => i), { minLength: 1 }),
      fc.integer(),
      (subset, seed) => {
        const txs = subset.map(i => ALL[i])
        const shuffled = fc.sample(fc.shuffledSubarray(txs, { minLength: txs.length, maxLength: txs.length }), { numRuns: 1, seed })[0]
        const withDuplicates = [...shuffled, ...shuffled.slice(0, 3)]
        expect(hashes(orderPool(withDuplicates, BASE_FEE).ordered)).to.deep.equal(hashes(orderPool(txs, BASE_FEE).ordered))
      }
    ), { numRuns: 200 })
  })

  it('respects nonce order per sender and otherwise sorts by effective tip, then hash', () => {
    fc.assert(fc.property(fc.subarray(ALL.map((_, i) => i), { minLength: 2 }), subset => {
      const { ordered } = orderPool(subset.map(i => ALL[i]), BASE_FEE)
      const lastNonce = new Map<string, bigint>()
      for (const t of ordered) {
        const prev = lastNonce.get(t.sender)
        expect(prev == null || prev < t.nonce).to.equal(true)
        lastNonce.set(t.sender, t.nonce)
      }
      expectGreedy(ordered)
    }), { numRuns: 100 })
  })

  it('places the highest tip first, breaks exact ties by hash, drops fee caps under the base fee and duplicates', () => {
    const w = new Workload(common, [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3)])
    const dec = (raw: Uint8Array): DecodedTx => { const d = decodeTransaction(raw, common, keccak256); if (!d.ok) { throw new Error(d.reason) } return d.value }
    const low = dec(w.ethTransfer(0, w.addresses[1], 1n, { maxPriorityFeePerGas: 1n }))
    const high = dec(w.ethTransfer(1, w.addresses[2], 1n, { maxPriorityFeePerGas: 5_000_000_000n, maxFeePerGas: 10_000_000_000n }))
    const capped = dec(w.ethTransfer(2, w.addresses[0], 1n, { maxPriorityFeePerGas: 1n, maxFeePerGas: BASE_FEE - 1n }))
    const { ordered, dropped } = orderPool([low, capped, high, low], BASE_FEE)
    expect(hashes(ordered)).to.deep.equal([high.hash, low.hash])
    expect(dropped.map(d => d.reason).sort()).to.deep.equal(['duplicate', 'fee cap below the base fee'])
    const tieA = dec(w.ethTransfer(0, w.addresses[2], 2n, { maxPriorityFeePerGas: 7n }))
    const tieB = dec(w.ethTransfer(1, w.addresses[0], 2n, { maxPriorityFeePerGas: 7n }))
    const tie = hashes(orderPool([tieB, tieA], BASE_FEE).ordered)
    expect(tie).to.deep.equal([tieA.hash, tieB.hash].sort())
  })
})

describe('core: transaction decoder', () => {
  it('remembers outcomes by hash, bounded: the least recently used goes first', () => {
    const decoder = new TxDecoder({ chainId: 31337, hardfork: 'bpo1' }, 2)
    const [a, b, c] = ALL.slice(0, 3).map(t => t.raw)
    const first = decoder.decode(a)
    expect(first.ok && first.value.hash).to.equal(ALL[0].hash)
    expect(decoder.decode(a)).to.equal(first)
    const second = decoder.decode(b)
    expect(decoder.decode(a)).to.equal(first)
    decoder.decode(c)
    expect(decoder.decode(a)).to.equal(first)
    expect(decoder.decode(b)).to.not.equal(second)
    expect(decoder.decode(b)).to.deep.include({ ok: true })
  })
})
