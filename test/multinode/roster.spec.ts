import { join } from 'node:path'
import { expect } from 'aegir/chai'
import { parseConfig } from '../../src/config/index.ts'
import { generateMemberKeys } from '../../src/enclave/index.ts'
import { MemberNode } from '../../src/node/index.ts'
import { toHex } from '../../src/proto/index.ts'
import { TestTdProvider } from '../../src/testing/index.ts'
import { Anvil } from '../fixtures/anvil.ts'
import { memberTickets, startCommitteeNet } from '../fixtures/committee-net.ts'
import { GOOD_MRTD, until } from '../fixtures/network.ts'
import type { CommitteeNet } from '../fixtures/committee-net.ts'

async function counter (node: MemberNode, name: 'rosterMismatch'): Promise<number> {
  return (await node.metrics[name].get()).values.reduce((n, v) => n + v.value, 0)
}

describe('p2p: roster gossip', function () {
  this.timeout(120_000)
  let anvil: Anvil
  let net: CommitteeNet
  let odd: MemberNode | undefined

  before(async () => {
    anvil = await Anvil.start({ blockTime: 1 })
    net = await startCommitteeNet(anvil, 3)
  })

  after(async () => {
    await odd?.stop()
    await net?.stop()
    await anvil?.stop()
  })

  it('maps every member\'s private peer id to its roster index', async () => {
    await until(() => net.nodes.every(n => n.roster.entries().length === 3), 20_000, 'full roster everywhere')
    for (const node of net.nodes) {
      for (const other of net.nodes) {
        expect(node.roster.indexOf(other.privatePlane.peerId.toString())).to.equal(other.index)
        expect(node.roster.entry(other.index)?.publicPeerId).to.equal(other.publicPlane.peerId.toString())
      }
    }
  })

  it('flags a member whose config fingerprint differs (log + roster_mismatch_total)', async () => {
    const keys = await generateMemberKeys()
    // the same endpoint spelled with a trailing slash: same chain, another fingerprint
    const json = structuredClone(net.config.json)
    json.chainRpc = `${anvil.url}/`
    json.committee[2] = { blsPublicKey: toHex(keys.bls.publicKey), proofOfPossession: toHex(keys.bls.proofOfPossession) }
    const config = parseConfig(json)
    expect(config.signature().toString()).to.not.equal(net.config.signature().toString())
    odd = await MemberNode.start({
      config,
      keys,
      dataDir: join(net.dir, 'odd'),
      quoteProvider: new TestTdProvider(net.td, { mrTd: GOOD_MRTD }),
      operatorTickets: await memberTickets(net.operator, keys),
      bootstrap: [net.nodes[0].addresses().private[0]],
      beaconApi: net.beacon.url
    })
    await until(async () => await counter(net.nodes[0], 'rosterMismatch') > 0 && await counter(odd as MemberNode, 'rosterMismatch') > 0, 20_000, 'mismatch flagged on both sides')
    // it never enters the committee's roster view
    expect(net.nodes[0].roster.indexOf(odd.privatePlane.peerId.toString())).to.equal(undefined)
  })
})
