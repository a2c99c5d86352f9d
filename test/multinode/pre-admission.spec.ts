/**
 * Pre-admission limits: PreAdmission's bookkeeping on fake connections, then real planes on loopback
 * under a half-open flood from 127.0.0.2 that a member on 127.0.0.1 must get through.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { expect } from 'aegir/chai'
import { hostOf, PreAdmission } from '../../src/p2p/index.ts'
import { ATTACKER, attackerAddressUsable, Flood } from '../fixtures/half-open-flood.ts'
import { GOOD_MRTD, startPeer, testCommittee, until } from '../fixtures/network.ts'
import type { HandshakeEvent, Plane, PlaneOptions, RefusalEvent } from '../../src/p2p/index.ts'
import type { TestCommittee } from '../fixtures/network.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A raw connection as PreAdmission sees it: an address, a status, abort and 'close'. */
class FakeConn extends EventTarget {
  readonly remoteAddr: Multiaddr
  status = 'open'
  abortedWith?: Error

  constructor (host: string, port = 4000) {
    super()
    this.remoteAddr = multiaddr(host.includes(':') ? `/ip6/${host}/tcp/${port}` : `/ip4/${host}/tcp/${port}`)
  }

  abort (err: Error): void {
    this.abortedWith = err
    this.close('aborted')
  }

  close (status = 'closed'): void {
    if (this.status !== 'open') { return }
    this.status = status
    this.dispatchEvent(new Event('close'))
  }
}

describe('p2p: pre-admission', function () {
  this.timeout(60_000)

  describe('PreAdmission (fake connections)', () => {
    const live: PreAdmission[] = []
    afterEach(() => { live.splice(0).forEach(p => { p.stop() }) })

    function pre (o: ConstructorParameters<typeof PreAdmission>[0] = {}): { p: PreAdmission, refusals: RefusalEvent[] } {
      const refusals: RefusalEvent[] = []
      const p = new PreAdmission({ acceptsPerSecond: 1000, stageTimeoutMs: 60_000, ...o, onRefusal: e => refusals.push(e) })
      live.push(p)
      return { p, refusals }
    }

    it('holds each host to its pending cap, and frees a slot when a connection closes or is admitted', () => {
      const { p, refusals } = pre({ maxPendingPerHost: 2 })
      const [a, b, c] = [new FakeConn('10.0.0.1'), new FakeConn('10.0.0.1'), new FakeConn('10.0.0.1')]
      expect([p.deny(a), p.deny(b), p.deny(c)]).to.deep.equal([false, false, true])
      expect(refusals.map(r => [r.reason, r.host])).to.deep.equal([['pending-per-host', '10.0.0.1']])
      expect(p.deny(new FakeConn('10.0.0.2')), 'another host is not held to this one\'s cap').to.equal(false)
      a.close()
      expect(p.pendingOf('10.0.0.1')).to.equal(1)
      p.admitted(b as never)
      expect(p.pendingOf('10.0.0.1')).to.equal(0)
      b.close()
      expect(p.pending).to.equal(1)
    })

    it('at the global cap aborts the oldest connection of the host holding the most, never a lone dialer', () => {
      const { p, refusals } = pre({ maxPendingPerHost: 4, maxPendingTotal: 6 })
      const flood = Array.from({ length: 4 }, () => new FakeConn('10.6.6.6'))
      const honest = [new FakeConn('10.0.0.1'), new FakeConn('10.0.0.2')]
      for (const conn of [honest[0], ...flood, honest[1]]) {
        expect(p.deny(conn)).to.equal(false)
      }
      const newcomer = new FakeConn('10.0.0.3')
      expect(p.deny(newcomer)).to.equal(false)
      expect(flood[0].status).to.equal('aborted')
      expect(refusals.map(r => [r.reason, r.host])).to.deep.equal([['pending-evicted', '10.6.6.6']])
      // the flooder's newcomers now evict its own older ones
      const again = new FakeConn('10.6.6.6')
      expect(p.deny(again)).to.equal(false)
      expect(flood[1].status).to.equal('aborted')
      expect([...honest, newcomer, again].map(c => c.status)).to.deep.equal(['open', 'open', 'open', 'open'])
      expect(p.pending).to.equal(6)
    })

    it('on a tie evicts the oldest pending connection', () => {
      const { p } = pre({ maxPendingTotal: 3 })
      const conns = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map(h => new FakeConn(h))
      conns.forEach(c => { p.deny(c) })
      p.deny(new FakeConn('10.0.0.4'))
      expect(conns.map(c => c.status)).to.deep.equal(['aborted', 'open', 'open'])
    })

    it('rate-limits accepts per host per second', () => {
      let now = 1_000_000
      const { p, refusals } = pre({ acceptsPerSecond: 2, nowMs: () => now })
      const tries = (): boolean[] => [1, 2, 3].map(() => p.deny(new FakeConn('10.0.0.1')))
      expect(tries()).to.deep.equal([false, false, true])
      expect(refusals.at(-1)?.reason).to.equal('rate-limit')
      now += 1000
      expect(p.deny(new FakeConn('10.0.0.1'))).to.equal(false)
    })

    it('reports every refusal, and asks to log one per host per interval with the count left unlogged', () => {
      let now = 1_000_000
      const { p, refusals } = pre({ maxPendingPerHost: 0, logIntervalMs: 10_000, nowMs: () => now })
      for (let i = 0; i < 3; i++) { p.deny(new FakeConn('10.0.0.1')) }
      p.deny(new FakeConn('10.0.0.2'))
      now += 10_000
      p.deny(new FakeConn('10.0.0.1'))
      expect(refusals.map(r => [r.host, r.logNow, r.suppressed])).to.deep.equal([
        ['10.0.0.1', true, 0], ['10.0.0.1', false, 0], ['10.0.0.1', false, 0], ['10.0.0.2', true, 0], ['10.0.0.1', true, 2]
      ])
    })

    it('aborts a connection that has not reached the encrypter by the stage deadline, but not one that has', async () => {
      const { p, refusals } = pre({ stageTimeoutMs: 50 })
      const [stalled, started] = [new FakeConn('10.0.0.1'), new FakeConn('10.0.0.2')]
      p.deny(stalled)
      p.deny(started)
      p.started(started as never)
      await until(() => stalled.status !== 'open', 2000, 'the stalled connection aborted')
      expect(stalled.abortedWith?.name).to.equal('TimeoutError')
      expect(refusals.map(r => [r.reason, r.host])).to.deep.equal([['handshake-timeout', '10.0.0.1']])
      expect(started.status).to.equal('open')
      expect(p.pending).to.equal(1)
    })

    it('counts an IPv6 host by its /64 and an IPv4-mapped one by its IPv4 address', () => {
      expect(hostOf(multiaddr('/ip6/2001:db8:0:1::5/tcp/1'))).to.equal('2001:db8:0:1::/64')
      expect(hostOf(multiaddr('/ip6/2001:db8:0:1:ffff:1:2:3/tcp/1'))).to.equal('2001:db8:0:1::/64')
      expect(hostOf(multiaddr('/ip6/::1/tcp/1'))).to.equal('0:0:0:0::/64')
      expect(hostOf(multiaddr('/ip4/10.1.2.3/tcp/1'))).to.equal('10.1.2.3')
      expect(hostOf(multiaddr('/ip6/::ffff:10.1.2.3/tcp/1'))).to.equal('10.1.2.3')
      expect(hostOf(multiaddr('/ip6/::ffff:a01:203/tcp/1'))).to.equal('10.1.2.3')
      const { p } = pre({ maxPendingPerHost: 1 })
      expect(p.deny(new FakeConn('2001:db8:0:1::5'))).to.equal(false)
      expect(p.deny(new FakeConn('2001:db8:0:1::6')), 'same /64').to.equal(true)
    })
  })

  describe('planes under a half-open flood', () => {
    let c: TestCommittee
    const planes: Plane[] = []
    const floods: Flood[] = []

    before(async function () {
      c = await testCommittee(2)
      // the attacker's address must be a distinct loopback host here
      if (!await attackerAddressUsable()) { this.skip() }
    })

    afterEach(async () => {
      await Promise.all(floods.splice(0).map(async f => f.stop()))
      await Promise.all(planes.splice(0).map(async p => p.stop()))
    })

    async function member (extra: Partial<PlaneOptions> = {}, onHandshake?: (e: HandshakeEvent) => void): Promise<Plane> {
      const p = await startPeer(c, { accept: ['member'], topics: [], as: { member: GOOD_MRTD }, onHandshake, extra })
      planes.push(p)
      return p
    }

    function portOf (p: Plane): number {
      return Number(p.addresses()[0].getComponents().find(x => x.name === 'tcp')?.value)
    }

    async function admittedDespite (flood: Flood, target: Plane): Promise<void> {
      const friend = await member()
      friend.keepConnected(target.addresses()[0])
      await until(() => target.registry.get(friend.peerId) != null && friend.registry.get(target.peerId) != null, 15_000, 'the member admitted during the flood')
      expect(flood.open, 'the flood is still on').to.be.greaterThan(0)
    }

    it('a member gets in while one host holds 30 half-open connections; the flood\'s refusals are reported', async () => {
      const refusals: RefusalEvent[] = []
      const events: HandshakeEvent[] = []
      // libp2p's own default upgrade timeout: what the flood exploited
      const target = await member({ upgradeTimeoutMs: 10_000, onRefusal: e => refusals.push(e) }, e => events.push(e))
      const t0 = Date.now()
      const flood = new Flood(portOf(target), 30)
      floods.push(flood)
      await until(() => target.preAdmission.pendingOf(ATTACKER) === target.preAdmission.maxPendingPerHost, 5000, 'the flood at the per-host cap')
      await admittedDespite(flood, target)
      // the stalled stages time out in the stage deadline (2 s), not the upgrade's 10 s
      await until(() => refusals.some(r => r.reason === 'handshake-timeout') && events.some(e => e.reason === 'handshake-timeout'), 10_000, 'stage timeouts')
      const reasons = new Set(refusals.map(r => r.reason))
      expect([...reasons]).to.include.members(['pending-per-host', 'rate-limit', 'handshake-timeout'])
      expect(refusals.every(r => r.host === ATTACKER), 'only the flooding host is refused').to.equal(true)
      expect(refusals.filter(r => r.logNow).length, 'logged once per 10 s').to.be.at.most(1 + Math.floor((Date.now() - t0) / 10_000))
      expect(events.find(e => e.reason === 'handshake-timeout')).to.deep.include({ direction: 'inbound', outcome: 'failed' })
    })

    it('at the global cap a member\'s connection evicts the flooder\'s oldest', async () => {
      const refusals: RefusalEvent[] = []
      const target = await member({ maxPendingTotal: 3, maxPendingPerHost: 3, onRefusal: e => refusals.push(e) })
      const flood = new Flood(portOf(target), 30)
      floods.push(flood)
      await until(() => target.preAdmission.pending === 3, 5000, 'the flood at the global cap')
      await admittedDespite(flood, target)
      expect(refusals.some(r => r.reason === 'pending-evicted' && r.host === ATTACKER)).to.equal(true)
      expect(refusals.every(r => r.host === ATTACKER)).to.equal(true)
    })
  })
})
