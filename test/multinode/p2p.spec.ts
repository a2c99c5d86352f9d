import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { explainVerify } from '../../src/config/index.ts'
import { issueTicket } from '../../src/enclave/index.ts'
import { HintSender, MemberEvidenceSource, Plane, policyFromConfig, Reader, TicketEvidenceSource } from '../../src/p2p/index.ts'
import { encodeMessage, GOSSIP_FRAME_BYTES, MAX_CANDIDATE_BLOCK_BYTES, MAX_HINT_BYTES, signHint } from '../../src/proto/index.ts'
import { TestTdProvider } from '../../src/testing/index.ts'
import { Anvil } from '../fixtures/anvil.ts'
import { startCommitteeNet } from '../fixtures/committee-net.ts'
import { memberKeys, seal, unsignedCandidate } from '../fixtures/committee.ts'
import { GOOD_MRTD, nowSecs, until } from '../fixtures/network.ts'
import type { CandidateValue } from '../../src/proto/index.ts'
import type { CommitteeNet } from '../fixtures/committee-net.ts'

describe('p2p: planes, streams and the reader on a live committee', function () {
  this.timeout(120_000)
  let anvil: Anvil
  let net: CommitteeNet
  const cleanup: Array<() => Promise<void>> = []

  before(async () => {
    anvil = await Anvil.start({ blockTime: 1 })
    net = await startCommitteeNet(anvil, 4)
  })

  after(async () => {
    for (const fn of cleanup.splice(0).reverse()) { await fn().catch(() => {}) }
    await net?.stop()
    await anvil?.stop()
  })

  const ticket = async (role: 'reader' | 'cobuilder', key: Parameters<typeof peerIdFromPrivateKey>[0], ttl = 3600): Promise<string> =>
    issueTicket({ role, subject: peerIdFromPrivateKey(key).toString(), expiresAt: nowSecs() + ttl }, (role === 'reader' ? net.reader : net.cobuilder).privateJwk)

  async function clientPlane (role: 'reader' | 'cobuilder', topics: string[], ttl?: number): Promise<Plane> {
    const key = await generateKeyPair('Ed25519')
    const plane = await Plane.create({
      name: role,
      privateKey: key,
      listen: [],
      policy: policyFromConfig(net.config, ['member']),
      evidence: new TicketEvidenceSource(await ticket(role, key, ttl)),
      topics
    })
    cleanup.push(async () => plane.stop())
    return plane
  }

  /** A rogue, attested member plane (a good MR_TD and an operator ticket, outside the roster) on `topic`. */
  async function rogueMember (topic: string): Promise<Plane> {
    const rogueKey = await generateKeyPair('Ed25519')
    const rogue = await Plane.create({
      name: 'rogue',
      privateKey: rogueKey,
      listen: [],
      policy: policyFromConfig(net.config, ['reader', 'member']),
      evidence: new MemberEvidenceSource(new TestTdProvider(net.td, { mrTd: GOOD_MRTD }), await issueTicket({ role: 'member', subject: peerIdFromPrivateKey(rogueKey).toString(), expiresAt: nowSecs() + 3600 }, net.operator.privateJwk)),
      topics: [topic]
    })
    cleanup.push(async () => rogue.stop())
    rogue.pubsub.subscribe(topic)
    return rogue
  }

  async function sealedSlots (min: number): Promise<number[]> {
    let slots: number[] = []
    await until(async () => {
      slots = (await net.nodes[0].store.candidateRange(0, Number.MAX_SAFE_INTEGER, 1000)).map(r => r.slot)
      return slots.length >= min
    }, 60_000, `${min} sealed candidates`)
    return slots
  }

  it('a reader started after 5 candidates were sealed yields all of them, in order, via sync', async () => {
    const slots = await sealedSlots(5)
    const reader = await Reader.start({ config: net.config, ticket: async peer => issueTicket({ role: 'reader', subject: peer, expiresAt: nowSecs() + 3600 }, net.reader.privateJwk), bootstrap: [net.nodes[1].addresses().public[0]] })
    cleanup.push(async () => reader.stop())
    const got: CandidateValue[] = []
    for await (const c of reader) {
      got.push(c)
      if (got.length >= slots.length + 2) { break }
    }
    expect(got.slice(0, slots.length).map(c => c.slot)).to.deep.equal(slots)
    const ordered = got.map(c => c.slot)
    expect(ordered).to.deep.equal([...ordered].sort((a, b) => a - b))
    expect(reader.latest()?.slot).to.equal(ordered.at(-1))
    expect(reader.get(slots[0])).to.not.equal(undefined)
  })

  it('a reader keeps only its newest `keep` candidates, and yields every slot once, in order', async () => {
    const slots = await sealedSlots(5)
    const reader = await Reader.start({ config: net.config, keep: 3, ticket: async peer => issueTicket({ role: 'reader', subject: peer, expiresAt: nowSecs() + 3600 }, net.reader.privateJwk), bootstrap: [net.nodes[2].addresses().public[0]] })
    cleanup.push(async () => reader.stop())
    const got: number[] = []
    for await (const c of reader) {
      got.push(c.slot)
      if (got.length >= slots.length + 3) { break }
    }
    expect(new Set(got).size, 'no slot yielded twice').to.equal(got.length)
    expect(got).to.deep.equal([...got].sort((a, b) => a - b))
    const held = got.filter(s => reader.get(s) != null)
    expect(held, 'only the newest three are kept').to.deep.equal(got.slice(-3))
    expect(reader.latest()?.slot).to.equal(got.at(-1))
  })

  it('a reader receives candidates but never a simulation or a hint, and cannot join the private plane', async () => {
    const { topics } = net.nodes[0]
    const plane = await clientPlane('reader', [topics.candidates, topics.simulations, topics.hint, topics.roster])
    const seen = new Map<string, number>()
    plane.pubsub.addEventListener('message', e => { seen.set(e.detail.topic, (seen.get(e.detail.topic) ?? 0) + 1) })
    for (const t of [topics.candidates, topics.simulations, topics.hint, topics.roster]) { plane.pubsub.subscribe(t) }
    await plane.connect(net.nodes[2].addresses().public[0])
    const err = await plane.connect(net.nodes[2].addresses().private[0]).then(() => undefined, (e: Error) => e)
    expect(err, 'private plane must refuse a reader').to.be.instanceOf(Error)
    await until(() => (seen.get(topics.candidates) ?? 0) >= 2, 30_000, 'candidates at the reader')
    expect(seen.get(topics.simulations) ?? 0).to.equal(0)
    expect(seen.get(topics.hint) ?? 0).to.equal(0)
    expect(seen.get(topics.roster) ?? 0).to.equal(0)
  })

  it('libp2p\'s metrics carry their own plane: each plane\'s connection gauge counts that plane\'s connections', async () => {
    const reader = await clientPlane('reader', [])
    await reader.connect(net.nodes[1].addresses().public[0])
    const node = net.nodes[1]
    const gauge = (text: string, plane: string): number => text.split('\n')
      .filter(l => l.startsWith('libp2p_connection_manager_connections{') && l.includes(`plane="${plane}"`) && /[=]"(inbound|outbound)"/.test(l))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)
    await until(async () => {
      const text = await node.metrics.text()
      return gauge(text, 'public') === node.publicPlane.node.getConnections().length && gauge(text, 'private') === node.privatePlane.node.getConnections().length
    }, 10_000, 'per-plane connection gauges')
    // the reader made the public plane's count differ from the private one's: the labels are not shared
    expect(node.publicPlane.node.getConnections().length).to.be.greaterThan(node.privatePlane.node.getConnections().length)
  })

  it('a co-builder hint reaches every member; a reader may not open the hint stream; a bad signature is refused', async () => {
    const cobuilder = await clientPlane('cobuilder', [])
    await cobuilder.connect(net.nodes[0].addresses().public[0])
    const sender = await HintSender.open(cobuilder, net.nodes[0].publicPlane.peerId)
    cleanup.push(async () => sender.close())
    const key = new Uint8Array(32).fill(0x31)
    const fp = net.config.root().bytes
    // aim at the slot after next on the beacon clock: accepted while the slot is still open for hints
    let verdict = { accepted: false, reason: '' }
    let slot = 0
    for (let i = 0; i < 20 && !verdict.accepted; i++) {
      slot = net.beacon.clock.current() + 2
      verdict = await sender.send(signHint(key, slot, { txs: [], revertProtected: false }, fp))
    }
    expect(verdict).to.deep.equal({ accepted: true, reason: 'accepted' })
    await until(() => net.nodes.every(n => n.hintsFor(slot).length > 0 || n.machine.query({ type: 'HintsFor', slot }).length > 0), 10_000, 'hint at every member')

    const past = net.beacon.clock.current()
    const late = await sender.send(signHint(key, past, { txs: [], revertProtected: false }, fp))
    expect(late.accepted).to.equal(false)
    expect(late.reason).to.match(new RegExp(`^slot ${past} takes no more hints \\(its inputs are fixed\\); slots \\d+–\\d+ take hints$`))

    // one size limit end to end: a template just under MAX_HINT_BYTES is judged and reaches every member
    // in one gossip message; a 6 MB one gets a verdict naming the limit, not a reset
    const junk = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => {
      const t = new Uint8Array(120_000).fill(i + 1)
      t[0] = 0x03 // malformed blob transactions: judged (and later excluded by the simulation), never a crash
      return t
    })
    let big = { accepted: false, reason: '' }
    let bigSlot = 0
    for (let i = 0; i < 20 && !big.accepted; i++) {
      bigSlot = net.beacon.clock.current() + 2
      big = await sender.send(signHint(key, bigSlot, { txs: junk(Math.floor(MAX_HINT_BYTES / 120_100)), revertProtected: false }, fp))
      if (!big.accepted) { expect(big.reason).to.not.match(/at most/) }
    }
    expect(big).to.deep.equal({ accepted: true, reason: 'accepted' })
    await until(() => net.nodes.every(n => n.hintsFor(bigSlot).some(h => h.template.txs.length > 20)), 15_000, 'the large hint at every member')
    const six = await sender.send(signHint(key, net.beacon.clock.current() + 2, { txs: junk(50), revertProtected: false }, fp))
    expect(six.accepted).to.equal(false)
    expect(six.reason).to.match(new RegExp(`^hint of 60\\d{5} bytes: a hint is at most ${MAX_HINT_BYTES} bytes \\(MAX_HINT_BYTES`))
    const nine = await sender.send(signHint(key, net.beacon.clock.current() + 2, { txs: junk(75), revertProtected: false }, fp))
    expect(nine.reason).to.match(/^not sent: hint of \d+ bytes: a hint is at most/)
    // the stream still works after the refusals
    expect((await sender.send({ ...signHint(key, slot + 1, { txs: [], revertProtected: true }, fp), coBuilder: new Uint8Array(20).fill(9) })).reason).to.match(/bad signature/)

    const forged = { ...signHint(key, slot + 1, { txs: [], revertProtected: true }, fp), coBuilder: new Uint8Array(20).fill(9) }
    const bad = await sender.send(forged)
    expect(bad.accepted).to.equal(false)
    expect(bad.reason).to.match(/bad signature/)

    const reader = await clientPlane('reader', [])
    await reader.connect(net.nodes[0].addresses().public[0])
    const refused = await HintSender.open(reader, net.nodes[0].publicPlane.peerId)
    expect(await refused.refusal()).to.deep.equal({ accepted: false, reason: 'only co-builders may send hints' })
    await refused.close()
  })

  it('candidates from a non-member, or failing verify, are not delivered to readers', async () => {
    const { topics } = net.nodes[0]
    const invalid: string[] = []
    const reader = await Reader.start({
      config: net.config,
      ticket: async peer => issueTicket({ role: 'reader', subject: peer, expiresAt: nowSecs() + 3600 }, net.reader.privateJwk),
      bootstrap: [net.nodes[3].addresses().public[0]],
      fromSlot: 1_000_000,
      onInvalid: r => invalid.push(r),
      listen: ['/ip4/127.0.0.1/tcp/0']
    })
    cleanup.push(async () => reader.stop())
    const forgedSlot = 1_000_001
    // sealed by a key outside the roster: both forgeries fail verify under the pinned config, and say why
    const minority = seal(unsignedCandidate(forgedSlot), memberKeys(1, 'rogue'), net.config.root().bytes)
    const rogueCandidate = { ...minority, slot: forgedSlot + 1 }
    const verdict = explainVerify(rogueCandidate, net.config)
    expect(verdict.valid ? '' : verdict.reason).to.match(/^signer [0-9a-f]{16}… is not in the pinned roster$/)
    expect(explainVerify(minority, net.config)).to.deep.equal(verdict)
    // a co-builder is admitted on the public plane but may not publish candidates
    const cobuilder = await clientPlane('cobuilder', [topics.candidates])
    cobuilder.pubsub.subscribe(topics.candidates)
    await cobuilder.connect(net.nodes[3].addresses().public[0])
    // a rogue, attested member connected straight to the reader publishes one that fails verify
    const rogue = await rogueMember(topics.candidates)
    await rogue.connect(reader.plane.addresses()[0])
    await until(() => rogue.pubsub.getSubscribers(topics.candidates).length > 0 && cobuilder.pubsub.getSubscribers(topics.candidates).length > 0, 10_000, 'mesh')
    // publish until both are refused: the reader names the rogue's verify failure, the member the
    // co-builder has as its only peer counts a rejected candidate (at most 40 rounds, 10 s)
    const memberRejections = async (): Promise<number> => (await net.nodes[3].metrics.gossip.get()).values
      .filter(v => v.labels.topic === 'candidates' && v.labels.result === 'reject').reduce((n, v) => n + v.value, 0)
    const rejectedBefore = await memberRejections()
    let rounds = 0
    await until(async () => {
      if (rounds < 40) {
        rounds++
        await cobuilder.pubsub.publish(topics.candidates, encodeMessage('Candidate', minority)).catch(() => {})
        await rogue.pubsub.publish(topics.candidates, encodeMessage('Candidate', rogueCandidate)).catch(() => {})
      }
      return invalid.includes(`candidate fails verify: ${verdict.valid ? '' : verdict.reason}`) && await memberRejections() > rejectedBefore
    }, 10_000, 'the reader to reject the rogue candidate and member 3 the co-builder\'s')
    expect(reader.get(forgedSlot)).to.equal(undefined)
    expect(reader.get(forgedSlot + 1)).to.equal(undefined)
    for (const slot of [forgedSlot, forgedSlot + 1]) {
      const stored = await Promise.all(net.nodes.map(async n => n.store.getCandidate(slot)))
      expect(stored.filter(c => c != null), `members storing slot ${slot}`).to.have.length(0)
    }
  })

  it('a candidate of a block at the committee\'s size cap crosses the public plane in one gossip frame, and is judged by the reader', async () => {
    const { topics } = net.nodes[0]
    const judged: string[] = []
    const reader = await Reader.start({
      config: net.config,
      ticket: async peer => issueTicket({ role: 'reader', subject: peer, expiresAt: nowSecs() + 3600 }, net.reader.privateJwk),
      bootstrap: [net.nodes[0].addresses().public[0]],
      fromSlot: 2_000_000,
      onInvalid: r => { judged.push(r) },
      listen: ['/ip4/127.0.0.1/tcp/0']
    })
    cleanup.push(async () => reader.stop())
    const rogue = await rogueMember(topics.candidates)
    await rogue.connect(reader.plane.addresses()[0])
    await until(() => rogue.pubsub.getSubscribers(topics.candidates).length > 0, 10_000, 'mesh')
    const slot = 2_000_001
    // a body as large as the cap lets a block be (its RLP list headers aside)
    const body = Array.from({ length: 28 }, (_, i) => new Uint8Array(Math.floor(MAX_CANDIDATE_BLOCK_BYTES / 28) - 8).fill(i + 1))
    const big = encodeMessage('Candidate', seal(unsignedCandidate(slot, body), memberKeys(1, 'rogue'), net.config.root().bytes))
    expect(big.length).to.be.above(MAX_CANDIDATE_BLOCK_BYTES - 1024).and.below(GOSSIP_FRAME_BYTES)
    let rounds = 0
    await until(async () => {
      if (rounds < 10) {
        rounds++
        await rogue.pubsub.publish(topics.candidates, big).catch(() => {})
      }
      return judged.some(r => r.startsWith('candidate fails verify'))
    }, 20_000, 'the reader to judge the 6 MiB candidate')
  })

  it('an admission whose ticket expires is disconnected', async () => {
    const plane = await clientPlane('reader', [], 3)
    const member = net.nodes[1].publicPlane
    await plane.connect(member.addresses()[0])
    await until(() => member.registry.get(plane.peerId) != null, 5000, 'admission')
    expect(member.node.getConnections(plane.peerId).length).to.be.greaterThan(0)
    await until(() => member.node.getConnections(plane.peerId).length === 0, 10_000, 'disconnect at expiry')
    expect(member.registry.get(plane.peerId)).to.equal(undefined)
  })
})
