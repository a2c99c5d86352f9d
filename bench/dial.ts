/**
 * Section `dial`: median time to dial, upgrade and close a connection on loopback, plain Noise vs
 * attested Noise (nonces, Noise, evidence and verdicts, with a warm platform-verdict cache), the two
 * alternating in one run. The listeners run in a worker thread, as a remote peer runs in its own
 * process: each side's work runs on its own event loop, as it does between real peers. The same dials
 * with both ends on one event loop are reported too.
 */
import { Worker } from 'node:worker_threads'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { parseConfig } from '../src/config/index.ts'
import { TestTd, TestTdProvider } from '../src/testing/index.ts'
import { MemberEvidenceSource, Plane, policyFromConfig } from '../src/p2p/index.ts'
import { GOOD_MRTD, testCommittee, ticketFor } from '../test/fixtures/network.ts'
import { interleavedMediansMs, round, table } from './harness.ts'
import type { BenchSection } from './harness.ts'
import type { ConfigJson } from '../src/config/index.ts'
import type { TestTdExport } from '../src/testing/index.ts'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** What the listener thread needs to build the same two nodes. */
export interface ListenerData {
  configJson: ConfigJson
  td: TestTdExport
  key: Uint8Array
  ticket: string
}

/** A node like a plane (identify, gossipsub) on plain Noise. */
export async function plainNode (): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    // the bench dials back to back; libp2p would otherwise refuse more than 5 a second from one host
    connectionManager: { inboundConnectionThreshold: 10_000 },
    services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) }
  })
}

export async function attestedPlane (configJson: ConfigJson, td: TestTd, key: PrivateKey, ticket: string): Promise<Plane> {
  return Plane.create({
    name: 'bench',
    privateKey: key,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    policy: policyFromConfig(parseConfig(configJson), ['member']),
    evidence: new MemberEvidenceSource(new TestTdProvider(td, { mrTd: GOOD_MRTD }), ticket),
    topics: [],
    inboundConnectionThreshold: 10_000
  })
}

async function dialOnce (from: Libp2p, to: Multiaddr): Promise<void> {
  const conn = await from.dial(to)
  await conn.close()
}

async function startListeners (data: ListenerData): Promise<{ plain: Multiaddr, attested: Multiaddr, stop(): Promise<void> }> {
  const worker = new Worker(new URL('./dial-listener.ts', import.meta.url), { workerData: data })
  const addrs = await new Promise<{ plain: string, attested: string }>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('dial listener did not start within 30 s')) }, 30_000)
    worker.once('message', (m) => { clearTimeout(timer); resolve(m) })
    worker.once('error', (err) => { clearTimeout(timer); reject(err) })
  })
  return {
    plain: multiaddr(addrs.plain),
    attested: multiaddr(addrs.attested),
    stop: async () => {
      worker.postMessage('stop')
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { void worker.terminate().then(() => { resolve() }) }, 5_000)
        worker.once('exit', () => { clearTimeout(timer); resolve() })
      })
    }
  }
}

export async function dialBench (): Promise<BenchSection> {
  const c = await testCommittee(4)
  const keys = await Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519')))
  const [dialerKey, localKey, remoteKey] = keys
  const tickets = await Promise.all(keys.map(async k => ticketFor(c, 'member', k)))
  const plain = await Promise.all([plainNode(), plainNode()])
  const attested = await Promise.all([attestedPlane(c.configJson, c.td, dialerKey, tickets[0]), attestedPlane(c.configJson, c.td, localKey, tickets[1])])
  const remote = await startListeners({ configJson: c.configJson, td: await c.td.export(), key: privateKeyToProtobuf(remoteKey), ticket: tickets[2] })
  try {
    const other = await interleavedMediansMs({
      plainMs: async () => dialOnce(plain[0], remote.plain),
      attestedMs: async () => dialOnce(attested[0].node, remote.attested)
    }, 100, 10)
    const same = await interleavedMediansMs({
      plainMs: async () => dialOnce(plain[0], plain[1].getMultiaddrs()[0]),
      attestedMs: async () => dialOnce(attested[0].node, attested[1].node.getMultiaddrs()[0])
    }, 100, 10)
    const json = {
      plainMs: round(other.plainMs),
      attestedMs: round(other.attestedMs),
      ratio: round(other.attestedMs / other.plainMs),
      sameThread: { plainMs: round(same.plainMs), attestedMs: round(same.attestedMs), ratio: round(same.attestedMs / same.plainMs) }
    }
    return {
      json,
      markdown: table(['dial + upgrade + close on loopback (identify, gossipsub on both)', 'listener in its own thread, median ms', 'both ends on one event loop, median ms'], [
        ['plain Noise', json.plainMs, json.sameThread.plainMs],
        ['attested Noise (test TD, warm verdict cache)', json.attestedMs, json.sameThread.attestedMs],
        ['ratio', json.ratio, json.sameThread.ratio]
      ]) +
        '\n\nTarget: ratio ≤ 1.3 (the first column: peers never share an event loop). Plain and attested dials alternate (100 each), so machine load falls on both alike. Each attested dial generates a fresh quote on both sides (test TD: ~0.1 ms) and verifies the other\'s (cached platform verdict and ticket: ~0.12 ms); the nonces travel in the clear with Noise\'s own messages, so the exchange adds one round trip after Noise.'
    }
  } finally {
    await Promise.allSettled([remote.stop(), ...plain.map(async n => n.stop()), ...attested.map(async p => p.stop())])
  }
}

