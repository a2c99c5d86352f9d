/**
 * The second-EVM check, pure: a chain block that equals the candidate but for the fields anvil
 * cannot take passes, with those fields named; any other difference is a mismatch naming the field.
 */
import { expect } from 'aegir/chai'
import { secondEvmCheck } from '../src/node/testnet/index.ts'
import { executionBlockHash, keccak256, orderedTrieRoot, toHex } from '../src/proto/index.ts'
import { unsignedCandidate } from './fixtures/committee.ts'
import type { ChainBlock } from '../src/node/testnet/index.ts'
import type { CandidateHeaderValue } from '../src/proto/index.ts'

const hex = (b: Uint8Array): string => `0x${toHex(b)}`

/** The block the chain would mine from `h`, with its own prevRandao, extra data and beacon root. */
function chainBlockOf (h: CandidateHeaderValue, body: Uint8Array[], over: Partial<CandidateHeaderValue> = {}): ChainBlock {
  const mined = { ...h, prevRandao: new Uint8Array(32).fill(0x99), extraData: new Uint8Array(0), parentBeaconBlockRoot: new Uint8Array(32), ...over }
  return {
    hash: hex(executionBlockHash(mined)),
    number: `0x${mined.number.toString(16)}`,
    mixHash: hex(mined.prevRandao),
    extraData: hex(mined.extraData),
    stateRoot: hex(mined.stateRoot),
    receiptsRoot: hex(mined.receiptsRoot),
    transactionsRoot: hex(mined.transactionsRoot),
    withdrawalsRoot: hex(mined.withdrawalsRoot),
    parentBeaconBlockRoot: hex(mined.parentBeaconBlockRoot),
    logsBloom: hex(mined.logsBloom),
    gasUsed: `0x${mined.gasUsed.toString(16)}`,
    transactions: body.map(b => hex(keccak256(b)))
  }
}

describe('testnet: the second-EVM check', () => {
  const c = unsignedCandidate(9)

  it('passes a block equal but for the fields the chain cannot be told, and names them', () => {
    const v = secondEvmCheck(c, chainBlockOf(c.header, c.body))
    expect(v.mismatches).to.deep.equal([])
    expect(v.substituted).to.deep.equal(['prevRandao', 'extraData', 'parentBeaconBlockRoot'])
    expect(v.stateRootDiffers).to.equal(false)
  })

  it('a state root of the chain\'s own (anvil\'s non-canonical one) is substituted and counted, not a mismatch', () => {
    const v = secondEvmCheck(c, chainBlockOf(c.header, c.body, { stateRoot: new Uint8Array(32).fill(0x42) }))
    expect(v.mismatches).to.deep.equal([])
    expect(v.stateRootDiffers).to.equal(true)
    expect(v.substituted).to.include('stateRoot')
  })

  it('any other difference is a mismatch that names the field, with both values', () => {
    const gas = secondEvmCheck(c, chainBlockOf(c.header, c.body, { gasUsed: c.header.gasUsed + 1 }))
    expect(gas.mismatches.map(m => m.field)).to.deep.equal(['gasUsed', 'blockHash (header with the chain\'s own values for the fields it cannot take)'])
    expect(gas.mismatches[0]).to.deep.equal({ field: 'gasUsed', candidate: String(c.header.gasUsed), chain: String(c.header.gasUsed + 1) })
    const order = secondEvmCheck(c, { ...chainBlockOf(c.header, c.body), transactions: [...c.body].reverse().map(b => hex(keccak256(b))) })
    expect(order.mismatches.map(m => m.field)).to.deep.equal(['transaction 0', 'transaction 1'])
    const timestamp = secondEvmCheck(c, chainBlockOf(c.header, c.body, { timestamp: c.header.timestamp + 1 }))
    expect(timestamp.mismatches.map(m => m.field)).to.deep.equal(['blockHash (header with the chain\'s own values for the fields it cannot take)'])
  })

  it('a transactions root over the forms the chain was given (blob transactions wrapped, as anvil roots them) is substituted; any other is a mismatch', () => {
    const sent = c.body.map((raw, i) => i === 0 ? Uint8Array.from([...raw, 0xaa]) : raw)
    const wrapped = secondEvmCheck(c, chainBlockOf(c.header, c.body, { transactionsRoot: orderedTrieRoot(sent) }), sent)
    expect(wrapped.mismatches).to.deep.equal([])
    expect(wrapped.substituted).to.include('transactionsRoot')
    // the same root without the forms it is over, or a root over anything else: the field is named
    expect(secondEvmCheck(c, chainBlockOf(c.header, c.body, { transactionsRoot: orderedTrieRoot(sent) })).mismatches.map(m => m.field)).to.include('transactionsRoot')
    const other = secondEvmCheck(c, chainBlockOf(c.header, c.body, { transactionsRoot: new Uint8Array(32).fill(3) }), sent)
    expect(other.mismatches.map(m => m.field)).to.include('transactionsRoot')
  })
})
