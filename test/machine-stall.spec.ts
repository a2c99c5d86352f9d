/**
 * The simulation is awaited by its own slot only: a SealCandidate whose simulation waits on a stalled
 * RPC (here a loopback proxy in front of a real anvil that holds one parent's header) does not delay
 * any other slot's commands.
 */
import { createServer } from 'node:http'
import { hexToBytes } from '@ethereumjs/util'
import { expect } from 'aegir/chai'
import { ChainRpc, detectChainInfo, ProvenParentCache } from '../src/chain/index.ts'
import { parseConfig } from '../src/config/index.ts'
import { AtelierMachine } from '../src/machine/index.ts'
import { parentSimulation } from '../src/node/index.ts'
import { Anvil } from './fixtures/anvil.ts'
import { configJson, memberKeys } from './fixtures/committee.ts'
import { until } from './fixtures/network.ts'
import { openSlot, simOutput } from './fixtures/slots.ts'
import type { ChainInfo, RpcBlock } from '../src/chain/index.ts'
import type { ApplyResult } from '../src/machine/index.ts'
import type { OpenSlotValue } from '../src/proto/index.ts'
import type { Server } from 'node:http'

const members = memberKeys(4)
const config = parseConfig(configJson(members))

/** Forwards JSON-RPC to `target`; holds every request for one block by number until released. */
interface StallingProxy {
  url: string
  held(): number
  release(): void
  close(): Promise<void>
}

async function stallingProxy (target: string, stalledBlock: string): Promise<StallingProxy> {
  const waiting: Array<() => void> = []
  let held = 0
  let released = false
  const pattern = new RegExp(`"eth_getBlockByHash"\\s*,\\s*"params"\\s*:\\s*\\[\\s*"${stalledBlock}"`, 'i')
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      const forward = (): void => {
        fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async r => {
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text())
        }, () => { res.destroy() })
      }
      if (!released && pattern.test(body)) {
        held++
        waiting.push(forward)
      } else {
        forward()
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => held,
    release: () => {
      released = true
      for (const f of waiting.splice(0)) { f() }
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** Rejects with `what` if `p` has not settled within `ms` (a bound, not a timing goal). */
async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what} did not settle within ${ms} ms`)) }, ms) })
  try {
    return await Promise.race([p, bound])
  } finally {
    clearTimeout(timer)
  }
}

describe('machine: a stalled simulation holds only its own slot', function () {
  this.timeout(60_000)
  let anvil: Anvil
  let chain: ChainInfo
  const blocks: RpcBlock[] = []

  before(async () => {
    anvil = await Anvil.start({ noMining: true })
    for (let i = 0; i < 2; i++) { await anvil.rpc('evm_mine') }
    for (const n of ['0x1', '0x2']) { blocks.push(await anvil.rpc<RpcBlock>('eth_getBlockByNumber', [n, false])) }
    chain = await detectChainInfo(new ChainRpc(anvil.url))
  })

  after(async () => {
    await anvil?.stop()
  })

  const open = (slot: number, parent: RpcBlock): OpenSlotValue => openSlot(slot, [], {
    parent: hexToBytes(parent.hash as `0x${string}`),
    parentNumber: Number(BigInt(parent.number)),
    timestamp: Number(BigInt(parent.timestamp)) + 12,
    gasLimit: Number(BigInt(parent.gasLimit))
  }, { key: members[0], domainId: config.root().bytes })

  const machineOn = (url: string): AtelierMachine => {
    const rpc = new ChainRpc(url, { timeoutMs: 30_000, attempts: 1 })
    return new AtelierMachine({
      roster: config.roster,
      domainId: config.root().bytes,
      simulate: parentSimulation({ parents: new ProvenParentCache(rpc), rules: () => ({ chainId: chain.chainId, forks: [{ name: chain.hardfork, timestamp: 0 }] }) })
    })
  }

  /** The honest output hash of each slot, from a machine on the direct RPC. */
  async function outputHashes (slots: Array<[number, RpcBlock]>): Promise<Map<number, Uint8Array>> {
    const reference = machineOn(anvil.url)
    const out = new Map<number, Uint8Array>()
    for (const [slot, parent] of slots) {
      await reference.apply({ type: 'OpenSlot', value: open(slot, parent) })
      out.set(slot, reference.candidateOf(slot, await reference.simulate(slot)).outputHash)
    }
    return out
  }

  it('seals slot B while slot A\'s parent block is held by the RPC, then seals A once it answers', async () => {
    const [slotA, slotB] = [2, 3]
    const hashes = await outputHashes([[slotA, blocks[0]], [slotB, blocks[1]]])
    const proxy = await stallingProxy(anvil.url, blocks[0].hash)
    try {
      const machine = machineOn(proxy.url)
      const signers = [0, 1, 2]
      const submit = async (slot: number): Promise<void> => {
        for (const i of [0, 1, 2, 3]) {
          expect(await machine.apply({ type: 'SubmitSimulation', value: simOutput(slot, i, members[i], hashes.get(slot) as Uint8Array) })).to.deep.equal({ ok: true })
        }
      }
      expect(await machine.apply({ type: 'OpenSlot', value: open(slotA, blocks[0]) })).to.deep.equal({ ok: true })
      await submit(slotA)
      let sealA: ApplyResult | undefined
      const sealingA = machine.apply({ type: 'SealCandidate', value: { slot: slotA, outputHash: hashes.get(slotA) as Uint8Array, signers } })
      void sealingA.then(r => { sealA = r })
      // a second seal of A waits behind the first, off every other slot's path
      const secondA = machine.apply({ type: 'SealCandidate', value: { slot: slotA, outputHash: hashes.get(slotA) as Uint8Array, signers: [1, 2, 3] } })
      await until(() => proxy.held() > 0, 10_000, 'the RPC to hold slot A\'s parent block')

      // slot B, start to end, while A's simulation is stalled
      expect(await within(machine.apply({ type: 'OpenSlot', value: open(slotB, blocks[1]) }), 10_000, 'OpenSlot B')).to.deep.equal({ ok: true })
      await within(submit(slotB), 10_000, 'SubmitSimulation B')
      const sealB = machine.apply({ type: 'SealCandidate', value: { slot: slotB, outputHash: hashes.get(slotB) as Uint8Array, signers } })
      expect(await within(sealB, 20_000, 'SealCandidate B')).to.deep.equal({ ok: true })
      expect(machine.query({ type: 'CandidateFor', slot: slotB })?.committeeRoster).to.have.length(3)
      expect(proxy.held(), 'slot B never asked for the held block').to.equal(1)
      expect(sealA, 'slot A still waits for its parent').to.equal(undefined)
      expect(machine.query({ type: 'CandidateFor', slot: slotA })).to.equal(undefined)

      proxy.release()
      expect(await within(sealingA, 20_000, 'SealCandidate A')).to.deep.equal({ ok: true })
      expect(await secondA).to.deep.include({ ok: false, code: 'already-sealed' })
      expect(machine.query({ type: 'CandidateFor', slot: slotA })?.header.parentHash).to.deep.equal(hexToBytes(blocks[0].hash as `0x${string}`))
    } finally {
      proxy.release()
      await proxy.close()
    }
  })

  it('a slot retired while its seal waits is refused as done, not sealed', async () => {
    const slot = 5
    const hashes = await outputHashes([[slot, blocks[0]]])
    const proxy = await stallingProxy(anvil.url, blocks[0].hash)
    try {
      const machine = machineOn(proxy.url)
      await machine.apply({ type: 'OpenSlot', value: open(slot, blocks[0]) })
      for (const i of [0, 1, 2]) { await machine.apply({ type: 'SubmitSimulation', value: simOutput(slot, i, members[i], hashes.get(slot) as Uint8Array) }) }
      const sealing = machine.apply({ type: 'SealCandidate', value: { slot, outputHash: hashes.get(slot) as Uint8Array, signers: [0, 1, 2] } })
      await until(() => proxy.held() > 0, 10_000, 'the RPC to hold the parent block')
      expect(await machine.apply({ type: 'MarkDone', value: { slot } })).to.deep.equal({ ok: true })
      proxy.release()
      expect(await within(sealing, 20_000, 'the retired seal')).to.deep.include({ ok: false, code: 'slot-done' })
    } finally {
      proxy.release()
      await proxy.close()
    }
  })
})
