/**
 * A chain RPC that lies to one member: a proxy between the members and anvil raises one balance in
 * the proofs it serves to one member process only. That member refuses every slot it sees
 * (`parent-state-proof`, counted) and never signs; the three honest members seal on.
 */
import { expect } from 'aegir/chai'
import { verify } from '../../src/config/index.ts'
import { Testnet } from '../../src/node/index.ts'
import { equalBytes } from '../../src/proto/index.ts'
import { scrape } from '../fixtures/metrics.ts'
import { until } from '../fixtures/network.ts'
import { TamperingProxy } from '../fixtures/tampering-proxy.ts'

describe('e2e: a chain RPC that falsifies state for one member', function () {
  this.timeout(240_000)

  it('the deceived member refuses its slots with parent-state-proof and signs nothing; the others seal', async () => {
    let proxy: TamperingProxy | undefined
    const net = await Testnet.start({
      members: 4,
      blockTime: 1,
      txsPerSlot: 6,
      memberChainRpc: async anvilUrl => {
        proxy = await TamperingProxy.start(anvilUrl)
        return proxy.url
      }
    })
    try {
      const tampering = proxy as TamperingProxy
      await net.waitForCandidates(2)
      const victim = 2
      const pid = net.members[victim].pid as number
      tampering.victim = {
        pid,
        rewrite: (method, _params, result) => method === 'eth_getProof' ? { ...(result as object), balance: '0xde0b6b3a7640000' } : result
      }
      // every member simulates every slot: within a few slots the victim has refused some
      const port = net.members[victim].ready?.metricsPort
      await until(async () => await scrape(port, 'atelier_parent_state_refusals_total', { code: 'parent-state-proof' }) >= 2, 60_000, 'the deceived member to refuse slots')
      expect(tampering.tampered).to.be.greaterThan(0)
      const refusedAt = Math.max(...net.candidates.keys())
      await net.waitForCandidates(net.candidates.size + 4, 90_000)
      const key = net.config.committee[victim].blsPublicKey
      const after = [...net.candidates.values()].filter(c => c.slot > refusedAt)
      expect(after.length).to.be.at.least(4)
      for (const c of after) {
        expect(verify(c, net.config), `slot ${c.slot} verifies`).to.equal(true)
        expect(c.committeeRoster.some(k => equalBytes(k, key)), `slot ${c.slot} signed by the deceived member`).to.equal(false)
      }
      // the honest members saw no refusal of their own
      for (const i of [0, 1, 3]) {
        expect(await scrape(net.members[i].ready?.metricsPort, 'atelier_parent_state_refusals_total', { code: 'parent-state-proof' }), `member ${i}`).to.equal(0)
      }
    } finally {
      await net.stop()
      await proxy?.stop()
    }
  })
})
