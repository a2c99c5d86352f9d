/**
 * Section `fanout`: one attested member publishes sealed candidates on the public candidates topic;
 * 10 light subscribers (`Reader`: read ticket, gossip validation with `verify`) receive them, all in
 * this process. Throughput = candidates × readers delivered per second, and per reader.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TestTdProvider } from '../src/testing/index.ts'
import { MemberEvidenceSource, Plane, policyFromConfig, Reader, serveSync } from '../src/p2p/index.ts'
import { encodeMessage } from '../src/proto/index.ts'
import { gossipTopicNames } from '../src/topics/index.ts'
import { seal, unsignedCandidate } from '../test/fixtures/committee.ts'
import { GOOD_MRTD, nowSecs, testCommittee, ticketFor, until } from '../test/fixtures/network.ts'
import { round, table } from './harness.ts'
import type { BenchSection } from './harness.ts'

export async function fanoutBench (): Promise<BenchSection> {
  const READERS = 10
  const CANDIDATES = 100
  const c = await testCommittee(4)
  const topic = gossipTopicNames(c.config.lattice, c.config.signature()).candidates
  const key = await generateKeyPair('Ed25519')
  const member = await Plane.create({
    name: 'member',
    privateKey: key,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    policy: policyFromConfig(c.config, ['member', 'reader']),
    evidence: new MemberEvidenceSource(new TestTdProvider(c.td, { mrTd: GOOD_MRTD }), await ticketFor(c, 'member', key)),
    topics: [topic],
    inboundConnectionThreshold: 10_000
  })
  await serveSync(member, { candidateRange: async () => [] })
  member.validate(topic, () => 'accept')
  member.pubsub.subscribe(topic)
  const readers: Reader[] = []
  try {
    const { issueTicket } = await import('../src/enclave/index.ts')
    for (let i = 0; i < READERS; i++) {
      readers.push(await Reader.start({
        config: c.config,
        ticket: async peer => issueTicket({ role: 'reader', subject: peer, expiresAt: nowSecs() + 3600 }, c.reader.privateJwk),
        bootstrap: [member.addresses()[0].toString()],
        fromSlot: 1
      }))
    }
    await until(() => member.pubsub.getSubscribers(topic).length === READERS, 20_000, 'readers subscribed')
    // meshes form on the heartbeat
    await new Promise(resolve => setTimeout(resolve, 1500))
    const fp = c.config.root().bytes
    const messages = Array.from({ length: CANDIDATES }, (_, i) => encodeMessage('Candidate', seal(unsignedCandidate(i + 1), c.members.slice(0, 3), fp)))
    const counts = readers.map(() => 0)
    const done = readers.map(async (r, i) => {
      for await (const _ of r) {
        if (++counts[i] >= CANDIDATES) return
      }
    })
    const t0 = performance.now()
    for (const m of messages) {
      await member.pubsub.publish(topic, m)
    }
    await Promise.race([Promise.all(done), new Promise(resolve => setTimeout(resolve, 120_000))])
    const seconds = (performance.now() - t0) / 1000
    const delivered = counts.reduce((a, b) => a + b, 0)
    const json = { readers: READERS, candidates: CANDIDATES, delivered, candidatesPerSec: round(delivered / seconds, 1), perReaderPerSec: round(delivered / READERS / seconds, 1) }
    return {
      json,
      markdown: table(['measure', 'value'], [['readers', READERS], ['candidates published', CANDIDATES], ['delivered (all readers)', delivered],
        ['candidates delivered per second (all readers)', json.candidatesPerSec], ['per reader per second', json.perReaderPerSec]]) +
        '\n\nEvery delivery includes the reader\'s BLS `verify` (a 3-of-4 aggregate); all 11 nodes share this machine\'s 2 cores.'
    }
  } finally {
    await Promise.allSettled(readers.map(async r => r.stop()))
    await member.stop()
  }
}
