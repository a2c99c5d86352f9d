/**
 * The consensus-layer bridge: the slot clock, the testnet's beacon event source read through
 * Lodestar's client over loopback (the real event format, both ways), the checks on each event (a
 * bad one is dropped with its reason and the stream goes on), replacement, waiting, and the
 * OpenSlot comparison that makes a member refuse a leader's environment.
 */
import { createServer } from 'node:http'
import { expect } from 'aegir/chai'
import { BeaconView, environmentEvent, environmentMismatch, SlotClock } from '../src/beacon/index.ts'
import { ChainRpc } from '../src/chain/index.ts'
import { BeaconEventSource, testnetFeeRecipient } from '../src/node/testnet/index.ts'
import { toHex } from '../src/proto/index.ts'
import { Anvil } from './fixtures/anvil.ts'
import { until } from './fixtures/network.ts'
import type { BeaconError, SlotEnvironment } from '../src/beacon/index.ts'
import type { OpenSlotValue } from '../src/proto/index.ts'
import type { Server, ServerResponse } from 'node:http'

const RULES = { chainId: 31337, forks: [{ name: 'osaka', timestamp: 0 }] }

function env (clock: SlotClock, slot: number, over: Partial<SlotEnvironment> = {}): SlotEnvironment {
  return {
    fork: 'fulu',
    slot,
    proposerIndex: slot % 64,
    parentBlockRoot: new Uint8Array(32).fill(1),
    parentBlockNumber: 7,
    parentBlockHash: `0x${'ab'.repeat(32)}`,
    timestamp: clock.timestampOf(slot),
    prevRandao: new Uint8Array(32).fill(2),
    feeRecipient: new Uint8Array(20).fill(3),
    withdrawals: [{ index: 5n, validatorIndex: 9n, address: new Uint8Array(20).fill(4), amount: 1_000_000n }],
    parentBeaconBlockRoot: new Uint8Array(32).fill(1),
    ...over
  }
}

/** A beacon API that sends whatever frames the test writes: for events no honest source sends. */
async function rawBeacon (clock: SlotClock): Promise<{ url: string, send(data: string, event?: string): void, close(): Promise<void> }> {
  const streams = new Set<ServerResponse>()
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/eth/v1/beacon/genesis') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { genesis_time: String(clock.genesisTime), genesis_validators_root: `0x${'00'.repeat(32)}`, genesis_fork_version: '0x00000000' } }))
    } else if (path === '/eth/v1/config/spec') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { SECONDS_PER_SLOT: String(clock.secondsPerSlot) } }))
    } else {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(': hello\n\n')
      streams.add(res)
      req.on('close', () => { streams.delete(res) })
    }
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    send: (data: string, event = 'payload_attributes') => { for (const s of streams) { s.write(`event: ${event}\ndata: ${data}\n\n`) } },
    close: async () => {
      for (const s of streams) { s.end() }
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    },
    get streams () { return streams.size }
  } as never
}

describe('beacon: slot clock, payload attributes, the environment check', () => {
  it('the slot clock: timestamp = genesis + slot × seconds; the slot in progress at an instant', () => {
    const clock = new SlotClock(1_700_000_000, 12)
    expect(clock.timestampOf(0)).to.equal(1_700_000_000)
    expect(clock.timestampOf(10)).to.equal(1_700_000_120)
    expect(clock.slotAt(1_700_000_119_999)).to.equal(9)
    expect(clock.slotAt(1_700_000_120_000)).to.equal(10)
    expect(clock.slotAt(1_600_000_000_000), 'before genesis').to.equal(0)
    expect(clock.slotAfter(1_700_000_119), 'a block in slot 9 is the parent of slot 10').to.equal(10)
    expect(clock.slotAfter(1_700_000_120)).to.equal(11)
    expect(() => new SlotClock(1_700_000_000, 0)).to.throw(/seconds per slot/)
    expect(() => new SlotClock(1.5, 12)).to.throw(/genesis time/)
  })

  describe('the testnet source on a live anvil, read through Lodestar', () => {
    let anvil: Anvil
    let source: BeaconEventSource
    let view: BeaconView
    const seen: SlotEnvironment[] = []
    const errors: BeaconError[] = []

    before(async () => {
      anvil = await Anvil.start({ blockTime: 1 })
      source = await BeaconEventSource.following({ rpc: new ChainRpc(anvil.url), secondsPerSlot: 1, rules: RULES, withdrawalsPerSlot: 2 })
      view = await BeaconView.connect({ url: source.url, onEnvironment: e => seen.push(e), onError: e => errors.push(e) })
    })

    after(async () => {
      view?.stop()
      await source?.stop()
      await anvil?.stop()
    })

    it('reads genesis and spec into the slot clock, and every announced environment arrives intact', async () => {
      expect(view.clock.genesisTime).to.equal(source.clock.genesisTime)
      expect(view.clock.secondsPerSlot).to.equal(1)
      await until(() => seen.length >= 2, 10_000, 'two environments')
      const announced = source.latest as SlotEnvironment
      await until(() => seen.some(e => e.slot === announced.slot), 5000, 'the latest one')
      const got = seen.find(e => e.slot === announced.slot) as SlotEnvironment
      expect(got).to.deep.equal(announced)
      const head = await anvil.rpc<{ hash: string, number: string, timestamp: string }>('eth_getBlockByHash', [got.parentBlockHash, false])
      expect(Number(BigInt(head.number))).to.equal(got.parentBlockNumber)
      // slot numbers are the beacon chain's, not block numbers; the timestamp is the slot's, after the parent's
      expect(got.slot).to.be.greaterThan(got.parentBlockNumber + 100)
      expect(got.timestamp).to.equal(view.clock.timestampOf(got.slot)).and.greaterThan(Number(BigInt(head.timestamp)))
      expect(toHex(got.feeRecipient)).to.equal(toHex(testnetFeeRecipient(got.proposerIndex)))
      expect(got.withdrawals).to.have.length(2)
      expect(view.get(got.slot, got.parentBlockHash.toUpperCase().replace('0X', '0x'))).to.deep.equal(got)
      expect(errors).to.deep.equal([])
    })

    it('wait() resolves with an environment as it arrives, and with undefined once its bound passes', async () => {
      const next = seen.at(-1) as SlotEnvironment
      const pending = view.wait(next.slot + 1, `0x${'77'.repeat(32)}`, 10_000)
      view.add(env(view.clock, next.slot + 1, { parentBlockHash: `0x${'77'.repeat(32)}` }))
      expect((await pending)?.slot).to.equal(next.slot + 1)
      const started = Date.now()
      expect(await view.wait(next.slot + 1, `0x${'78'.repeat(32)}`, 150)).to.equal(undefined)
      expect(Date.now() - started).to.be.at.least(140)
    })
  })

  describe('bad events', () => {
    const clock = new SlotClock(Math.floor(Date.now() / 1000) - 100, 1)
    let raw: Awaited<ReturnType<typeof rawBeacon>>
    let view: BeaconView
    const seen: SlotEnvironment[] = []
    const errors: BeaconError[] = []

    before(async () => {
      raw = await rawBeacon(clock)
      view = await BeaconView.connect({ url: raw.url, onEnvironment: e => seen.push(e), onError: e => errors.push(e) })
      await until(() => (raw as unknown as { streams: number }).streams > 0, 5000, 'subscribed')
    })

    after(async () => {
      view?.stop()
      await raw?.close()
    })

    it('each is dropped with a reason that names the problem; the stream goes on', async () => {
      const slot = clock.current() + 1
      const good = environmentEvent(env(clock, slot))
      const withData = (f: (d: any) => void): string => {
        const copy = structuredClone(good) as { version: string, data: any }
        f(copy)
        return JSON.stringify(copy)
      }
      raw.send('{not json')
      raw.send(withData(d => { d.version = 'capella' }))
      raw.send(withData(d => { d.data.payload_attributes.timestamp = String(clock.timestampOf(slot) + 1) }))
      raw.send(withData(d => { d.data.payload_attributes.suggested_fee_recipient = '0x1234' }))
      raw.send(withData(d => { d.data.proposal_slot = String(slot + 50); d.data.payload_attributes.timestamp = String(clock.timestampOf(slot + 50)) }))
      raw.send(JSON.stringify(good))
      await until(() => seen.length === 1, 5000, 'the good event after the bad ones')
      expect(seen[0].slot).to.equal(slot)
      expect(errors.map(e => e.code)).to.deep.equal(Array(5).fill('beacon-bad-event'))
      const reasons = errors.map(e => e.message).join('\n')
      expect(reasons).to.match(/JSON/)
      expect(reasons).to.match(/capella/)
      expect(reasons).to.match(/the slot clock .* gives/)
      expect(reasons).to.match(/not a 20-byte address/)
      expect(reasons).to.match(/slots ahead of the clock/)
    })

    it('a later event for the same slot and parent replaces the earlier one; other parents are kept beside it', () => {
      const slot = clock.current() + 1
      view.add(env(clock, slot, { prevRandao: new Uint8Array(32).fill(8) }))
      view.add(env(clock, slot, { prevRandao: new Uint8Array(32).fill(9) }))
      view.add(env(clock, slot, { parentBlockHash: `0x${'cd'.repeat(32)}` }))
      expect(view.get(slot, `0x${'ab'.repeat(32)}`)?.prevRandao).to.deep.equal(new Uint8Array(32).fill(9))
      expect(view.get(slot, `0x${'cd'.repeat(32)}`)).to.not.equal(undefined)
    })
  })

  it('environmentMismatch names the first field in which an OpenSlot departs from the beacon view', () => {
    const clock = new SlotClock(1_700_000_000, 12)
    const e = env(clock, 100)
    const open = {
      slot: 100,
      parent: new Uint8Array(32).fill(0xab),
      parentNumber: 7,
      timestamp: e.timestamp,
      feeRecipient: e.feeRecipient,
      prevRandao: e.prevRandao,
      parentBeaconBlockRoot: e.parentBeaconBlockRoot,
      withdrawals: e.withdrawals
    } as unknown as OpenSlotValue
    expect(environmentMismatch(open, e)).to.equal(undefined)
    expect(environmentMismatch({ ...open, parentNumber: 8 }, e)).to.match(/^parent number/)
    expect(environmentMismatch({ ...open, timestamp: e.timestamp + 12 }, e)).to.match(/^timestamp/)
    expect(environmentMismatch({ ...open, prevRandao: new Uint8Array(32) }, e)).to.match(/^prevRandao/)
    expect(environmentMismatch({ ...open, feeRecipient: new Uint8Array(20) }, e)).to.match(/^feeRecipient: OpenSlot 0x0{40}, beacon 0x(03){20}/)
    expect(environmentMismatch({ ...open, parentBeaconBlockRoot: new Uint8Array(32) }, e)).to.match(/^parentBeaconBlockRoot/)
    expect(environmentMismatch({ ...open, withdrawals: [] }, e)).to.match(/^withdrawals/)
    expect(environmentMismatch({ ...open, withdrawals: [{ ...e.withdrawals[0], amount: 1n }] }, e)).to.match(/^withdrawals/)
  })
})
