import { blake3 } from '@noble/hashes/blake3.js'
import { expect } from 'aegir/chai'
import { parseConfig } from '../src/config/index.ts'
import { concatBytes, toHex } from '../src/proto/index.ts'
import { atelierTopics, gossipTopicNames, UniqueId } from '../src/topics/index.ts'
import { configJson, memberKeys } from './fixtures/committee.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('topics: identifiers', () => {
  it('UniqueId.from decodes exactly 64 hex characters and hashes anything else', () => {
    const hex = 'ab'.repeat(32)
    expect(UniqueId.from(hex).toString()).to.equal(hex)
    expect(UniqueId.from(hex.toUpperCase()).toString()).to.equal(hex)
    expect(UniqueId.from('ab'.repeat(31)).toString()).to.equal(toHex(blake3(enc('ab'.repeat(31)))))
    expect(UniqueId.from('testnet').toString()).to.equal(toHex(blake3(enc('testnet'))))
    // BLAKE3's published digest of the empty input: a change of hash function cannot pass unnoticed
    expect(UniqueId.from('').toString()).to.equal('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262')
  })

  it('derive is blake3(id ‖ utf8(name)) with no separator', () => {
    const root = UniqueId.from('lattice')
    expect(root.derive('atelier').toString()).to.equal(toHex(blake3(concatBytes(root.bytes, enc('atelier')))))
    expect(root.derive('ab').derive('c').equals(root.derive('a').derive('bc'))).to.equal(false)
    const other = UniqueId.from('x')
    expect(root.derive(other).toString()).to.equal(toHex(blake3(concatBytes(root.bytes, other.bytes))))
  })

  it('derives every topic from ATELIER_ROOT and the config fingerprint', () => {
    const config = parseConfig(configJson(memberKeys(4)))
    const t = atelierTopics(config.lattice, config.signature())
    const root = UniqueId.from('testnet').derive('atelier').derive(config.signature())
    expect(t.root.toString()).to.equal(root.toString())
    expect(t.candidates.toString()).to.equal(root.derive('candidates').toString())
    expect(t.hint.toString()).to.equal(root.derive('hint').toString())
    expect(t.simulations.toString()).to.equal(root.derive('private').derive('simulations').toString())
    expect(t.roster.toString()).to.equal(root.derive('private').derive('roster').toString())
    const names = gossipTopicNames(config.lattice, config.signature())
    expect(names.candidates).to.equal(`/atelier/candidates/${t.candidates.toString()}`)
    expect(names.simulations).to.match(/^\/atelier\/simulations\/[0-9a-f]{64}$/)
    expect(new Set(Object.values(names)).size).to.equal(5)
  })

  it('gives a different config different topics', () => {
    const a = parseConfig(configJson(memberKeys(4)))
    const b = parseConfig(configJson(memberKeys(4), { chainRpc: 'http://127.0.0.1:8546' }))
    expect(gossipTopicNames(a.lattice, a.signature()).candidates).to.not.equal(gossipTopicNames(b.lattice, b.signature()).candidates)
  })
})
