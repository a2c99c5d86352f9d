/**
 * Section `dial`: median time to dial and upgrade a connection on loopback, plain Noise vs attested
 * Noise (Noise + nonce/quote/verdict exchange, with a warm platform-verdict cache), in the same run.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { TestTdProvider } from '../src/enclave/index.ts'
import { MemberEvidenceSource, Plane, policyFromConfig } from '../src/p2p/index.ts'
import { GOOD_MRTD, testCommittee, ticketFor } from '../test/fixtures/network.ts'
import { medianMs, round, table } from './harness.ts'
import type { BenchSection } from './harness.ts'
import type { Libp2p } from '@libp2p/interface'

async function dialOnce (from: Libp2p, to: Libp2p): Promise<void> {
  const conn = await from.dial(to.getMultiaddrs()[0])
  await conn.close()
}

export async function dialBench (): Promise<BenchSection> {
  // the same node as a plane (identify, gossipsub), only the encrypter differs
  const plain = await Promise.all([0, 1].map(async () => createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    // the bench dials back to back; libp2p would otherwise refuse more than 5 a second from one host
    connectionManager: { inboundConnectionThreshold: 10_000 },
    services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) }
  })))
  const c = await testCommittee(4)
  const attested = await Promise.all([0, 1].map(async () => {
    const key = await generateKeyPair('Ed25519')
    return Plane.create({
      name: 'bench',
      privateKey: key,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      policy: policyFromConfig(c.config, ['member']),
      evidence: new MemberEvidenceSource(new TestTdProvider(c.td, { mrTd: GOOD_MRTD }), await ticketFor(c, 'member', key)),
      topics: [],
      inboundConnectionThreshold: 10_000
    })
  }))
  try {
    const runs = 40
    // interleave so both see the same machine load
    const plainMs = await medianMs(async () => dialOnce(plain[0], plain[1]), runs, 5)
    const attestedMs = await medianMs(async () => dialOnce(attested[0].node, attested[1].node), runs, 5)
    const plainAgain = await medianMs(async () => dialOnce(plain[0], plain[1]), runs, 2)
    const base = Math.min(plainMs, plainAgain)
    const json = { plainMs: round(base), attestedMs: round(attestedMs), ratio: round(attestedMs / base) }
    return {
      json,
      markdown: table(['dial + upgrade + close on loopback (identify, gossipsub on both)', 'median ms'], [['plain Noise', json.plainMs], ['attested Noise (test TD, warm verdict cache)', json.attestedMs], ['ratio', json.ratio]]) +
        '\n\nTarget: ratio ≤ 1.3. Each attested dial generates a fresh quote on both sides (test TD: ~0.3 ms) and verifies the other\'s (cached platform: ~0.2 ms).'
    }
  } finally {
    await Promise.allSettled([...plain.map(async n => n.stop()), ...attested.map(async p => p.stop())])
  }
}
