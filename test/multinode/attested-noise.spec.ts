import { connect } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { expect } from 'aegir/chai'
import { createLibp2p } from 'libp2p'
import { issueTicket } from '../../src/enclave/index.ts'
import { ATTESTED_NOISE_PROTOCOL, MemberEvidenceSource } from '../../src/p2p/index.ts'
import { TestTdProvider } from '../../src/testing/index.ts'
import { gossipTopicNames } from '../../src/topics/index.ts'
import { GOOD_MRTD, nowSecs, startPeer, testCommittee, ticketFor, until } from '../fixtures/network.ts'
import type { HandshakeEvent, Plane } from '../../src/p2p/index.ts'
import type { TestCommittee } from '../fixtures/network.ts'
import type { Socket } from 'node:net'

describe('p2p: attested Noise', function () {
  this.timeout(60_000)
  let c: TestCommittee
  let topics: ReturnType<typeof gossipTopicNames>
  const planes: Plane[] = []

  before(async () => {
    c = await testCommittee(4)
    topics = gossipTopicNames(c.config.lattice, c.config.signature())
  })

  afterEach(async () => {
    await Promise.all(planes.splice(0).map(async p => p.stop()))
  })

  async function member (events?: HandshakeEvent[], mrTd = GOOD_MRTD): Promise<Plane> {
    const p = await startPeer(c, { accept: ['member'], topics: [topics.simulations], as: { member: mrTd }, onHandshake: e => events?.push(e) })
    planes.push(p)
    return p
  }

  it('two members connect and exchange a simulation message on the private plane', async () => {
    const events: HandshakeEvent[] = []
    const [a, b] = [await member(events), await member()]
    await a.connect(b.addresses()[0])
    expect(a.registry.get(b.peerId)?.role).to.equal('member')
    await until(() => b.registry.get(a.peerId) != null, 5000, 'responder admission')
    expect(b.registry.get(a.peerId)?.mrtd).to.deep.equal(GOOD_MRTD)
    expect(events[0]).to.deep.include({ outcome: 'admitted', role: 'member', direction: 'outbound' })
    const got: Uint8Array[] = []
    b.pubsub.addEventListener('message', e => { got.push(e.detail.data) })
    a.pubsub.subscribe(topics.simulations)
    b.pubsub.subscribe(topics.simulations)
    await until(() => a.pubsub.getSubscribers(topics.simulations).length > 0 && b.pubsub.getSubscribers(topics.simulations).length > 0, 10_000, 'subscriptions')
    await until(async () => {
      await a.pubsub.publish(topics.simulations, Uint8Array.of(1, 2, 3, got.length))
      return got.length > 0
    }, 10_000, 'delivery')
    expect(got[0].subarray(0, 3)).to.deep.equal(Uint8Array.of(1, 2, 3))
  })

  async function expectRefused (intruder: Plane, target: Plane, reason: string, events: HandshakeEvent[]): Promise<void> {
    const before = target.node.getConnections().length
    const err = await intruder.connect(target.addresses()[0]).then(() => undefined, (e: Error) => e)
    expect(err, 'dial must fail').to.be.instanceOf(Error)
    await until(() => events.some(e => e.outcome === 'rejected'), 5000, 'rejection event')
    expect(events.find(e => e.outcome === 'rejected')?.reason).to.equal(reason)
    expect(target.node.getConnections().length).to.equal(before)
    expect(target.registry.get(intruder.peerId)).to.equal(undefined)
  }

  it('refuses an MR_TD outside the acl inside the upgrade', async () => {
    const events: HandshakeEvent[] = []
    const target = await member(events)
    const intruder = await member(undefined, new Uint8Array(48).fill(0xee))
    await expectRefused(intruder, target, 'mrtd-not-allowed', events)
  })

  it('refuses a valid quote without an operator ticket (reader ticket presented instead)', async () => {
    const events: HandshakeEvent[] = []
    const target = await member(events)
    const intruder = await startPeer(c, { accept: ['member'], topics: [], as: { ticket: 'reader' } })
    planes.push(intruder)
    await expectRefused(intruder, target, 'role-not-accepted', events)
  })

  it('refuses a valid quote with an operator ticket for another peer', async () => {
    const events: HandshakeEvent[] = []
    const target = await member(events)
    const someoneElse = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const wrong = await issueTicket({ role: 'member', subject: someoneElse, expiresAt: nowSecs() + 60 }, c.operator.privateJwk)
    const intruder = await startPeer(c, {
      accept: ['member'],
      topics: [],
      as: { member: GOOD_MRTD },
      extra: { evidence: new MemberEvidenceSource(new TestTdProvider(c.td, { mrTd: GOOD_MRTD }), wrong) }
    })
    planes.push(intruder)
    await expectRefused(intruder, target, 'ticket-subject', events)
  })

  it('refuses a replayed quote (bound to another key and nonce)', async () => {
    const events: HandshakeEvent[] = []
    const target = await member(events)
    const replay = await c.td.quote(new Uint8Array(64).fill(1), { mrTd: GOOD_MRTD })
    const jwtKey = await generateKeyPair('Ed25519')
    const replayer = await startPeer(c, {
      accept: ['member'],
      topics: [],
      key: jwtKey,
      as: { member: GOOD_MRTD },
      extra: {
        evidence: {
          evidence: async () => ({
            kind: 'tdx' as const,
            quote: replay,
            collateral: c.td.collateral,
            operatorJwt: await issueTicket({ role: 'member', subject: peerIdFromPrivateKey(jwtKey).toString(), expiresAt: nowSecs() + 60 }, c.operator.privateJwk)
          })
        }
      }
    })
    planes.push(replayer)
    await expectRefused(replayer, target, 'binding-mismatch', events)
  })

  it('spends no quote on a dialer it refuses: the responder judges before it quotes', async () => {
    const quotes: Uint8Array[] = []
    const provider = new TestTdProvider(c.td, { mrTd: GOOD_MRTD })
    const counting = { kind: provider.kind, getQuote: async (rd: Uint8Array) => { quotes.push(rd); return provider.getQuote(rd) } }
    const key = await generateKeyPair('Ed25519')
    const events: HandshakeEvent[] = []
    const target = await startPeer(c, {
      accept: ['member'],
      topics: [],
      key,
      as: { member: GOOD_MRTD },
      onHandshake: e => events.push(e),
      extra: { evidence: new MemberEvidenceSource(counting, await ticketFor(c, 'member', key)) }
    })
    planes.push(target)
    await expectRefused(await member(undefined, new Uint8Array(48).fill(0xee)), target, 'mrtd-not-allowed', events)
    expect(quotes).to.have.length(0)
    const friend = await member()
    await friend.connect(target.addresses()[0])
    expect(quotes).to.have.length(1)
  })

  /** A raw TCP client that negotiates the attested protocol by hand, then does what `then` says. */
  async function rawPeer (target: Plane, then: (socket: Socket) => void): Promise<{ received: Buffer, closedAfterMs: number }> {
    const parts = target.addresses()[0].getComponents()
    const socket = connect({ host: parts.find(p => p.name === 'ip4')?.value, port: Number(parts.find(p => p.name === 'tcp')?.value) })
    const t0 = Date.now()
    const chunks: Buffer[] = []
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('error', () => {})
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    const line = (s: string): Buffer => Buffer.concat([Buffer.of(s.length + 1), Buffer.from(s + '\n')])
    socket.write(Buffer.concat([line('/multistream/1.0.0'), line(ATTESTED_NOISE_PROTOCOL)]))
    then(socket)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { socket.destroy(); reject(new Error('the member did not close the connection within 10 s')) }, 10_000)
      socket.once('close', () => { clearTimeout(timer); resolve() })
    })
    return { received: Buffer.concat(chunks), closedAfterMs: Date.now() - t0 }
  }

  it('answers the protocol with a 32-byte nonce in the clear, and cuts off a peer that sends a junk nonce', async () => {
    const events: HandshakeEvent[] = []
    const target = await member(events)
    const before = target.node.getConnections().length
    const { received } = await rawPeer(target, socket => { socket.write(Buffer.of(5, 1, 2, 3, 4, 5)) })
    const echo = Buffer.concat([Buffer.of(19), Buffer.from('/multistream/1.0.0\n'), Buffer.of(22), Buffer.from(`${ATTESTED_NOISE_PROTOCOL}\n`)])
    expect(received.subarray(0, echo.length)).to.deep.equal(echo)
    expect(received[echo.length]).to.equal(32)
    expect(received.length).to.equal(echo.length + 33)
    await until(() => events.some(e => e.outcome === 'failed'), 5000, 'failure event')
    expect(events.find(e => e.outcome === 'failed')).to.deep.include({ direction: 'inbound', reason: 'handshake-junk' })
    expect(target.node.getConnections().length).to.equal(before)
  })

  it('cuts off a peer that stalls inside the upgrade timeout', async () => {
    const events: HandshakeEvent[] = []
    const target = await startPeer(c, { accept: ['member'], topics: [], as: { member: GOOD_MRTD }, onHandshake: e => events.push(e), extra: { upgradeTimeoutMs: 800 } })
    planes.push(target)
    const { closedAfterMs } = await rawPeer(target, () => {})
    expect(closedAfterMs).to.be.at.least(700)
    expect(target.node.getConnections().length).to.equal(0)
  })

  it('refuses a plain-Noise peer inside the upgrade', async () => {
    const target = await member()
    const plain = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionGater: { denyDialMultiaddr: () => false } })
    try {
      const before = target.node.getConnections().length
      const err = await plain.dial(target.addresses()[0]).then(() => undefined, (e: Error) => e)
      expect(err).to.be.instanceOf(Error)
      expect(target.node.getConnections().length).to.equal(before)
    } finally {
      await plain.stop()
    }
  })
})
