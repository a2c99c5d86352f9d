import { expect } from 'aegir/chai'
import { Config, ConfigError, parseConfig } from '../src/config/index.ts'
import { toHex, WIRE_VERSION } from '../src/proto/index.ts'
import { configJson, memberKeys, MRTD_A, MRTD_B } from './fixtures/committee.ts'
import type { ConfigJson } from '../src/config/index.ts'

const members = memberKeys(4)

function configError (json: unknown): ConfigError {
  try {
    parseConfig(json)
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

function fields (json: unknown): string[] {
  return configError(json).issues.map(i => i.field)
}

describe('config', () => {
  it('parses a valid config with default tuning', () => {
    const config = parseConfig(configJson(members))
    expect(config.committeeSize).to.equal(4)
    expect(config.tuning.leaderTimeoutMs).to.be.a('number')
    expect(config.rosterIndexOf(members[2].publicKey)).to.equal(2)
  })

  it('fingerprint tag follows the design', () => {
    const config = parseConfig(configJson(members))
    // the wire version is part of the tag: members on different encodings never share topics
    expect(config.signatureTag()).to.match(new RegExp(`^atelier\\.v${WIRE_VERSION}\\.schema=L1Post4844\\.mrtd=[0-9a-f]{64}\\.rpc=[0-9a-f]{64}\\.committee=4$`))
    expect(config.signature().toString()).to.match(/^[0-9a-f]{64}$/)
  })

  describe('fingerprint', () => {
    const base = parseConfig(configJson(members, { mrtdAcl: [MRTD_A, MRTD_B] })).signature().toString()
    const variants: Array<[string, Partial<ConfigJson>, ReturnType<typeof memberKeys>?]> = [
      ['adding an MR_TD', { mrtdAcl: [MRTD_A, MRTD_B, 'c3'.repeat(48)] }],
      ['removing an MR_TD', { mrtdAcl: [MRTD_A] }],
      ['changing the RPC', { mrtdAcl: [MRTD_A, MRTD_B], chainRpc: 'http://127.0.0.1:8546' }],
      ['changing the committee size', { mrtdAcl: [MRTD_A, MRTD_B] }, memberKeys(5)]
    ]
    for (const [what, overrides, committee] of variants) {
      it(`changes when ${what}`, () => {
        expect(parseConfig(configJson(committee ?? members, overrides)).signature().toString()).to.not.equal(base)
      })
    }

    it('changes with the block schema', () => {
      // only L1Post4844 parses today: build the config another schema would give around the parser
      const config = parseConfig(configJson(members))
      const other = new Config({ ...config.json, blockSchema: 'OpStackBedrock' as never })
      expect(other.signatureTag()).to.include('.schema=OpStackBedrock.')
      expect(other.signature().toString()).to.not.equal(config.signature().toString())
    })

    it('does not change when the acl is reordered or differs only in hex case / 0x prefix', () => {
      expect(parseConfig(configJson(members, { mrtdAcl: [MRTD_B, MRTD_A] })).signature().toString()).to.equal(base)
      expect(parseConfig(configJson(members, { mrtdAcl: [`0x${MRTD_B.toUpperCase()}`, MRTD_A] })).signature().toString()).to.equal(base)
    })
  })

  it('names every invalid field', () => {
    const json = configJson(members, { chainRpc: 'ftp://example', mrtdAcl: ['abcd'] }) as Record<string, unknown>
    delete json.lattice
    const err = configError(json)
    expect(err.issues.map(i => i.field)).to.include.members(['lattice', 'chainRpc', 'mrtdAcl[0]'])
    expect(err.message).to.match(/mrtdAcl\[0\]: expected an MR_TD: 48 bytes/)
    expect(err.message).to.match(/chainRpc: expected an http/)
  })

  it('rejects an empty acl, a duplicated MR_TD and an unknown block schema', () => {
    expect(fields(configJson(members, { mrtdAcl: [] }))).to.deep.equal(['mrtdAcl'])
    expect(fields(configJson(members, { mrtdAcl: [MRTD_A, MRTD_A.toUpperCase()] }))).to.deep.equal(['mrtdAcl[1]'])
    expect(fields(configJson(members, { blockSchema: 'Nope' as never }))).to.deep.equal(['blockSchema'])
  })

  it('rejects committees of 0 and 65 members and duplicate keys', () => {
    expect(fields(configJson([]))).to.deep.equal(['committee'])
    const json = configJson(members)
    json.committee = Array.from({ length: 65 }, () => json.committee[0])
    expect(fields(json)).to.deep.equal(['committee'])
    expect(fields(configJson([members[0], members[1], members[0]]))).to.deep.equal(['committee[2].blsPublicKey'])
  })

  it('rejects a roster key without a valid proof of possession, by name', () => {
    const json = configJson(members)
    // member 1's key with member 2's proof: well-formed, but not a proof for this key
    json.committee[1] = { ...json.committee[1], proofOfPossession: json.committee[2].proofOfPossession }
    const err = configError(json)
    expect(err.issues).to.have.length(1)
    expect(err.issues[0].field).to.equal('committee[1].proofOfPossession')
    expect(err.issues[0].message).to.include(toHex(members[1].publicKey).slice(0, 16))
  })

  it('rejects a ticket key with a private part or an unsupported curve', () => {
    expect(fields(configJson(members, { operatorJwtKey: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA', d: 'BBBB' } as never }))).to.deep.equal(['operatorJwtKey'])
    expect(fields(configJson(members, { readTicketKey: { kty: 'EC', crv: 'P-384', x: 'AA', y: 'BB' } as never }))[0]).to.match(/^readTicketKey/)
  })

  it('rejects unknown fields so typos are not silently ignored', () => {
    expect(fields({ ...configJson(members), chainRPC: 'http://x' })).to.deep.equal(['(root)'])
  })
})
