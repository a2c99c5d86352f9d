/**
 * Hardening against a running testnet of member processes on loopback, as an attacker would try it:
 * half-open connections from another loopback host while a member restarts, and a flood of unfunded
 * transactions at a member's ingestion endpoint.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { expect } from 'aegir/chai'
import { makeCommon } from '../../src/core/index.ts'
import { SigningLog, Testnet } from '../../src/node/index.ts'
import { Workload } from '../../src/node/workload/workload.ts'
import { equalBytes, toHex } from '../../src/proto/index.ts'
import { attackerAddressUsable, Flood } from '../fixtures/half-open-flood.ts'
import { scrape } from '../fixtures/metrics.ts'
import { until } from '../fixtures/network.ts'

const portOf = (addr: string): number => Number(/\/tcp\/(\d+)/.exec(addr)?.[1])

describe('hardening: a live testnet under attack', function () {
  this.timeout(300_000)
  let net: Testnet
  let dir: string
  const floods: Flood[] = []

  before(async function () {
    if (!await attackerAddressUsable()) { this.skip() }
    dir = await mkdtemp(join(tmpdir(), 'atelier-hardening-'))
    net = await Testnet.start({ members: 4, blockTime: 1, txsPerSlot: 6, out: dir })
    await net.waitForCandidates(3)
  })

  after(async () => {
    await Promise.all(floods.splice(0).map(async f => f.stop()))
    await net?.stop()
    // ATELIER_KEEP_E2E=1 keeps the run's directory (logs, stores) for a post-mortem
    if (dir != null && process.env.ATELIER_KEEP_E2E == null) { await rm(dir, { recursive: true, force: true }) }
  })

  it('a member restarted while 127.0.0.2 holds half-open connections to every plane is admitted by its peers and signs within two slots', async () => {
    await net.stopMember(2)
    // every survivor's planes, as many half-open connections as the flood likes (its per-host cap binds)
    for (const i of [0, 1, 3]) {
      for (const addr of [...net.members[i].ready?.private ?? [], ...net.members[i].ready?.public ?? []]) {
        floods.push(new Flood(portOf(addr), 40))
      }
    }
    await until(() => floods.every(f => f.open > 0), 10_000, 'the flood holding connections')
    await net.startMember(2)
    const readyAt = net.beacon.clock.current()
    // it signs (its signing record holds a root) within two slots of its start: of the slots whose
    // building window opens after it is up (readyAt + 2 on: readyAt + 1's opened at readyAt's start),
    // the first or the second. That takes being admitted over the flooded planes, getting the slot's
    // OpenSlot from the committee, and simulating it.
    const record = join(dir, 'member-2', 'data', 'signing-record')
    const signedAfter = (): number[] => SigningLog.records(record).map(r => r.slot).filter(s => s > readyAt)
    await until(() => signedAfter().length > 0, 30_000, 'the restarted member signing a slot')
    expect(Math.min(...signedAfter()) - (readyAt + 2), `first slot signed after the restart (ready in slot ${readyAt})`).to.be.at.most(1)
    // it took over no slot whose building window opened before it was listening (it could not know
    // whether the leader had opened it)
    const lines = (await readFile(net.members[2].logPath, 'utf8')).split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as { time: string, event: string, plane?: string, slot?: number })
    const restart = lines.findLastIndex(l => l.event === 'member-started')
    const after = lines.slice(restart)
    const listening = after.find(l => l.event === 'peer-admitted' && l.plane === 'private')
    for (const t of after.filter(l => l.event === 'open-takeover')) {
      expect(listening, 'admitted before any takeover').to.not.equal(undefined)
      expect(net.beacon.clock.timestampOf((t.slot as number) - 1) * 1000, `slot ${t.slot} taken over`).to.be.at.least(Date.parse(listening?.time as string))
    }
    // and its signature is in the committee's candidates again
    const key = net.config.committee[2].blsPublicKey
    await until(() => [...net.candidates.values()].some(c => c.slot > readyAt && c.committeeRoster.some(k => equalBytes(k, key))), 30_000, 'the restarted member\'s signature on a candidate')
    // the survivors counted what they refused, and the flood was still on
    expect(floods.every(f => f.open > 0)).to.equal(true)
    let refused = 0
    for (const i of [0, 1, 3]) { refused += await scrape(net.members[i].ready?.metricsPort, 'atelier_connection_refusals_total') }
    expect(refused).to.be.greaterThan(0)
    await Promise.all(floods.splice(0).map(async f => f.stop()))
  })

  it('a flood of unfunded transactions is refused at ingestion with geth\'s error; none reaches the pool or a block', async () => {
    const member = net.members[0].ready
    const url = `http://127.0.0.1:${member?.rpcPort}`
    const common = makeCommon({ chainId: net.config.chain?.chainId ?? 31337, hardfork: 'osaka' })
    const keys = Array.from({ length: 400 }, (_, i) => hexToBytes(`0x${(0xbad000 + i).toString(16).padStart(64, '0')}`))
    const w = new Workload(common, keys)
    const raws = keys.map((_, i) => w.ethTransfer(i, w.addresses[0], 1n))
    const hashes = new Set<string>()
    const before = Math.max(...net.candidates.keys())
    for (let i = 0; i < raws.length; i += 100) {
      const batch = raws.slice(i, i + 100).map((r, j) => ({ jsonrpc: '2.0', id: i + j, method: 'eth_sendRawTransaction', params: [`0x${toHex(r)}`] }))
      const replies = await (await fetch(url, { method: 'POST', body: JSON.stringify(batch), signal: AbortSignal.timeout(30_000) })).json() as Array<{ error?: { code: number, message: string } }>
      expect(replies).to.have.length(batch.length)
      for (const r of replies) {
        expect(r.error?.code).to.equal(-32000)
        expect(r.error?.message, r.error?.message).to.match(/^insufficient funds for gas \* price \+ value: address 0x[0-9a-f]{40} have 0 want \d+$/)
      }
    }
    for (const r of raws) { hashes.add(toHex(r)) }
    expect(await scrape(member?.metricsPort, 'atelier_ingestion_refusals_total', { code: 'insufficient-funds' })).to.be.at.least(400)
    // the committee keeps sealing, and no block holds any of it
    await net.waitForCandidates(net.candidates.size + 3)
    for (const c of net.candidates.values()) {
      if (c.slot <= before) { continue }
      for (const tx of c.body) { expect(hashes.has(toHex(tx))).to.equal(false) }
    }
  })
})
