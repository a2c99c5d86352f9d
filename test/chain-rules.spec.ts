/**
 * The chain's rules are pinned, never guessed: the config's fork schedule enters ATELIER_ROOT (the
 * design's fingerprint tag unchanged), a slot runs the fork in force at its own timestamp, and a
 * member refuses to start when the chain (a real anvil here) or the EVM disagree with the pin.
 */
import { expect } from 'aegir/chai'
import { ChainRpc, detectChainInfo } from '../src/chain/index.ts'
import { ConfigError, parseConfig } from '../src/config/index.ts'
import { blobParameterMismatch, makeCommon, rulesAt } from '../src/core/index.ts'
import { chainRulesFor } from '../src/node/index.ts'
import { gossipTopicNames } from '../src/topics/index.ts'
import { Anvil } from './fixtures/anvil.ts'
import { configJson, memberKeys } from './fixtures/committee.ts'
import type { ChainInfo } from '../src/chain/index.ts'
import type { ConfigJson } from '../src/config/index.ts'

const members = memberKeys(4)
const schedule = { chainId: 31337, forks: [{ name: 'osaka' as const, timestamp: 0 }, { name: 'bpo1' as const, timestamp: 15_000, blob: { target: 10, max: 15, baseFeeUpdateFraction: 8346193 } }] }
const pinned = (chain: ConfigJson['chain']): ReturnType<typeof parseConfig> => parseConfig(configJson(members, { chain }))

describe('chain rules: pinned, never guessed', function () {
  this.timeout(60_000)

  it('the pinned schedule enters ATELIER_ROOT and the topics; the fingerprint tag stays the design\'s', () => {
    const plain = parseConfig(configJson(members))
    const a = pinned(schedule)
    const b = pinned({ ...schedule, forks: [schedule.forks[0], { ...schedule.forks[1], timestamp: 16_000 }] })
    expect(a.signatureTag()).to.equal(plain.signatureTag())
    expect(a.rulesTag()).to.equal('chain=31337;osaka@0,bpo1@15000:10/15/8346193')
    expect(a.root().toString()).to.not.equal(plain.root().toString())
    expect(a.root().toString()).to.not.equal(b.root().toString())
    expect(gossipTopicNames(a.lattice, a.signature(), a.rulesTag()).simulations).to.not.equal(gossipTopicNames(b.lattice, b.signature(), b.rulesTag()).simulations)
    expect(plain.rulesTag()).to.equal(undefined)
  })

  it('refuses a schedule that does not start at genesis, runs backwards or names an unknown fork', () => {
    const fields = (chain: unknown): string[] => {
      try {
        parseConfig({ ...configJson(members), chain })
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError)
        return (err as ConfigError).issues.map(i => `${i.field}: ${i.message}`)
      }
      throw new Error('the config was accepted')
    }
    expect(fields({ chainId: 1, forks: [{ name: 'osaka', timestamp: 5 }] }).join()).to.match(/genesis/)
    expect(fields({ chainId: 1, forks: [{ name: 'bpo1', timestamp: 0 }, { name: 'osaka', timestamp: 10 }] }).join()).to.match(/later forks, at later timestamps/)
    expect(fields({ chainId: 1, forks: [{ name: 'frontier', timestamp: 0 }] }).join()).to.match(/expected a fork from/)
  })

  it('a slot runs the fork in force at its timestamp', () => {
    expect(rulesAt(schedule, 14_999).hardfork).to.equal('osaka')
    expect(rulesAt(schedule, 15_000).hardfork).to.equal('bpo1')
    // the blob fee fraction switches with it
    expect(makeCommon(rulesAt(schedule, 15_000)).param('blobGasPriceUpdateFraction')).to.equal(8346193n)
    expect(makeCommon(rulesAt(schedule, 14_999)).param('blobGasPriceUpdateFraction')).to.equal(5007716n)
  })

  it('pinned blob parameters must be the EVM\'s own', () => {
    expect(blobParameterMismatch(1, schedule.forks[1])).to.equal(undefined)
    expect(blobParameterMismatch(1, { name: 'bpo1', timestamp: 0, blob: { target: 6, max: 9, baseFeeUpdateFraction: 8346193 } })).to.match(/pins target 6, max 9; the EVM runs target 10, max 15/)
  })

  describe('at start, against the chain', () => {
    let anvil: Anvil
    let info: ChainInfo
    before(async () => {
      anvil = await Anvil.start({})
      info = await detectChainInfo(new ChainRpc(anvil.url))
    })
    after(async () => { await anvil?.stop() })

    it('anvil reports its rules: unpinned, they are used as they are', () => {
      expect(info.reported).to.equal(true)
      expect(chainRulesFor(parseConfig(configJson(members)), info, 0)).to.deep.equal({ chainId: 31337, forks: [{ name: info.hardfork, timestamp: 0 }] })
    })

    it('a pin that names another chain id, another fork at the head, or other blob parameters refuses to start', () => {
      expect(() => chainRulesFor(pinned({ chainId: 1, forks: [{ name: 'bpo1', timestamp: 0 }] }), info, 0)).to.throw(/serves chain id 31337; the config pins 1/)
      expect(() => chainRulesFor(pinned({ chainId: 31337, forks: [{ name: 'prague', timestamp: 0 }] }), info, 0)).to.throw(/runs bpo1 at its head .* says prague/)
      expect(() => chainRulesFor(pinned({ chainId: 31337, forks: [{ name: 'bpo1', timestamp: 0, blob: { target: 1, max: 2, baseFeeUpdateFraction: 3 } }] }), info, 0)).to.throw(/blob parameters differ/)
      expect(chainRulesFor(pinned({ chainId: 31337, forks: [{ name: 'osaka', timestamp: 0 }, { name: 'bpo1', timestamp: 1 }] }), info, 100).forks).to.have.length(2)
    })

    it('a node that cannot say its rules is refused unless the config pins them', () => {
      const silent = { ...info, reported: false }
      expect(() => chainRulesFor(parseConfig(configJson(members)), silent, 0)).to.throw(/pin them in the config's "chain"/)
      expect(chainRulesFor(pinned({ chainId: 31337, forks: [{ name: 'osaka', timestamp: 0 }] }), silent, 0).forks[0].name).to.equal('osaka')
    })
  })
})
