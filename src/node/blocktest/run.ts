/**
 * `atelier blocktest`: the Ethereum Foundation's blockchain tests through atelier's own block path.
 * For each test case a fixture node (fixture-node.ts) serves the parent state as proofs over a
 * loopback JSON-RPC; each block's transactions are simulated in the block's own order (the core's
 * fixed-order mode) with the environment from its header and withdrawals, on parent state proven
 * against the parent header; every header field and the block hash are compared with the fixture's,
 * then the post-state. A block the fixture marks invalid must not come out as a valid block.
 *
 * Owns runBlocktest and BlocktestResult.
 */
import { readFile } from 'node:fs/promises'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { ChainRpc, ProvenParent, parentHeaderOf, provenStateSource } from '../../chain/index.ts'
import { simulateSlot } from '../../core/index.ts'
import { FixtureNode } from './fixture-node.ts'
import type { FixtureAccount } from './fixture-node.ts'
import type { RpcBlock } from '../../chain/index.ts'
import type { ForkSchedule, SlotResult } from '../../core/index.ts'
import type { CandidateHeaderValue, WithdrawalValue } from '../../proto/index.ts'

export interface BlocktestResult {
  id: string
  status: 'passed' | 'failed' | 'skipped'
  detail: string
}

type FixtureHeader = Record<string, string>

interface FixtureBlock {
  rlp: string
  blockHeader?: FixtureHeader
  expectException?: string
  rlp_decoded?: { blockHeader: FixtureHeader }
}

interface FixtureCase {
  network: string
  genesisBlockHeader: FixtureHeader
  pre: Record<string, FixtureAccount>
  postState?: Record<string, FixtureAccount>
  lastblockhash: string
  config: { chainid: string }
  blocks: FixtureBlock[]
}

/** The fixtures' network names as fork schedules (transitions at the stated timestamp). */
const NETWORKS: Record<string, Array<{ name: string, timestamp: number }>> = {
  Prague: [{ name: 'prague', timestamp: 0 }],
  Osaka: [{ name: 'osaka', timestamp: 0 }],
  PragueToOsakaAtTime15k: [{ name: 'prague', timestamp: 0 }, { name: 'osaka', timestamp: 15_000 }],
  OsakaToBPO1AtTime15k: [{ name: 'osaka', timestamp: 0 }, { name: 'bpo1', timestamp: 15_000 }]
}

/** A fixture header under the JSON-RPC names a node would use. */
function rpcHeader (h: FixtureHeader): RpcBlock {
  const names: Record<string, string> = { uncleHash: 'sha3Uncles', coinbase: 'miner', transactionsTrie: 'transactionsRoot', receiptTrie: 'receiptsRoot', bloom: 'logsBloom' }
  const out: Record<string, unknown> = { transactions: [] }
  for (const [k, v] of Object.entries(h)) { out[names[k] ?? k] = v }
  return out as RpcBlock
}

/** Our header under the fixture's names, for a field-by-field comparison. */
function fixtureNames (h: CandidateHeaderValue): FixtureHeader {
  const q = (n: number | bigint): string => `0x${n.toString(16)}`
  return {
    parentHash: bytesToHex(h.parentHash),
    coinbase: bytesToHex(h.feeRecipient),
    stateRoot: bytesToHex(h.stateRoot),
    transactionsTrie: bytesToHex(h.transactionsRoot),
    receiptTrie: bytesToHex(h.receiptsRoot),
    bloom: bytesToHex(h.logsBloom),
    number: q(h.number),
    gasLimit: q(h.gasLimit),
    gasUsed: q(h.gasUsed),
    timestamp: q(h.timestamp),
    extraData: bytesToHex(h.extraData),
    mixHash: bytesToHex(h.prevRandao),
    baseFeePerGas: q(h.baseFeePerGas),
    withdrawalsRoot: bytesToHex(h.withdrawalsRoot),
    blobGasUsed: q(h.blobGasUsed),
    excessBlobGas: q(h.excessBlobGas),
    parentBeaconBlockRoot: bytesToHex(h.parentBeaconBlockRoot),
    requestsHash: bytesToHex(h.requestsHash),
    hash: bytesToHex(h.blockHash)
  }
}

const QUANTITIES = new Set(['number', 'gasLimit', 'gasUsed', 'timestamp', 'baseFeePerGas', 'blobGasUsed', 'excessBlobGas'])

/** Quantities compare as numbers (the fixtures pad them to whole bytes), everything else as hex. */
function sameField (name: string, ours: string, theirs: string | undefined): boolean {
  if (theirs == null) { return false }
  return QUANTITIES.has(name) ? BigInt(ours) === BigInt(theirs) : ours === theirs.toLowerCase()
}

const quantity = (b: Uint8Array): bigint => b.length === 0 ? 0n : BigInt(bytesToHex(b))

/** The block's transactions (each as its canonical bytes) and withdrawals, from its RLP. */
function blockBody (rlp: string): { txs: Uint8Array[], withdrawals: WithdrawalValue[] } {
  const [, txs, , withdrawals] = RLP.decode(hexToBytes(rlp as `0x${string}`)) as unknown as [unknown, Array<Uint8Array | Uint8Array[]>, unknown, Uint8Array[][] | undefined]
  return {
    // a legacy transaction is an RLP list inside the block; a typed one, a byte string
    txs: txs.map(t => t instanceof Uint8Array ? t : RLP.encode(t)),
    withdrawals: (withdrawals ?? []).map(w => ({ index: quantity(w[0]), validatorIndex: quantity(w[1]), address: w[2], amount: quantity(w[3]) }))
  }
}

async function simulateBlock (node: FixtureNode, schedule: ForkSchedule, header: FixtureHeader, rlp: string): Promise<{ result: SlotResult, parent: ProvenParent }> {
  const parent = await ProvenParent.open(new ChainRpc(node.url, { attempts: 1 }), header.parentHash)
  const { txs, withdrawals } = blockBody(rlp)
  const result = await simulateSlot({
    parent: parentHeaderOf(parent.header),
    env: {
      timestamp: BigInt(header.timestamp),
      feeRecipient: hexToBytes(header.coinbase as `0x${string}`),
      prevRandao: hexToBytes(header.mixHash as `0x${string}`),
      gasLimit: BigInt(header.gasLimit),
      extraData: hexToBytes(header.extraData as `0x${string}`),
      parentBeaconBlockRoot: hexToBytes(header.parentBeaconBlockRoot as `0x${string}`)
    },
    hints: [],
    unsealed: txs,
    withdrawals,
    fixedOrder: true
  }, schedule, provenStateSource(parent))
  return { result, parent }
}

async function runCase (id: string, c: FixtureCase): Promise<BlocktestResult> {
  const forks = NETWORKS[c.network]
  if (forks == null) { return { id, status: 'skipped', detail: `network ${c.network} is not one atelier runs` } }
  const schedule: ForkSchedule = { chainId: Number(BigInt(c.config.chainid)), forks }
  const node = new FixtureNode(schedule.chainId)
  await node.start()
  try {
    const root = bytesToHex(await node.loadState(c.pre))
    if (root !== c.genesisBlockHeader.stateRoot) { return { id, status: 'failed', detail: `pre-state root ${root} is not the genesis header's ${c.genesisBlockHeader.stateRoot}` } }
    node.addHeader(rpcHeader(c.genesisBlockHeader))
    let last = c.genesisBlockHeader.hash
    let blocks = 0
    const refusals: string[] = []
    for (const [i, b] of c.blocks.entries()) {
      const header = b.blockHeader ?? b.rlp_decoded?.blockHeader
      if (header == null) { return { id, status: 'failed', detail: `block ${i} has no header` } }
      if (b.expectException != null) {
        const outcome = await simulateBlock(node, schedule, header, b.rlp).then(r => r.result, (err: Error) => err)
        if (!(outcome instanceof Error)) {
          return { id, status: 'failed', detail: `block ${i} came out valid; the fixture expects ${b.expectException}` }
        }
        refusals.push(`${b.expectException} → ${outcome.message.replace(/^transaction 0x[0-9a-f]+: /, '')}`)
        continue
      }
      const { result, parent } = await simulateBlock(node, schedule, header, b.rlp)
      const ours = fixtureNames(result.header)
      const wrong = Object.keys(ours).filter(k => !sameField(k, ours[k], header[k]))
      if (wrong.length > 0) {
        return { id, status: 'failed', detail: `block ${i}: ${wrong.map(k => `${k} ${ours[k]} ≠ ${header[k]}`).join('; ')}` }
      }
      node.addNodes(parent.nodes)
      node.addHeader(rpcHeader(header))
      last = header.hash
      blocks++
    }
    if (last !== c.lastblockhash) { return { id, status: 'failed', detail: `last block ${last}, the fixture's ${c.lastblockhash}` } }
    if (c.postState != null) {
      const post = bytesToHex(await new FixtureNode(schedule.chainId).loadState(c.postState))
      const head = c.blocks.filter(b => b.expectException == null).at(-1)?.blockHeader?.stateRoot ?? c.genesisBlockHeader.stateRoot
      if (post !== head) { return { id, status: 'failed', detail: `post-state root ${post} is not the last block's ${head}` } }
    }
    return { id, status: 'passed', detail: `${blocks} block(s) equal${refusals.length > 0 ? `; invalid refused: ${refusals.join('; ')}` : ''}` }
  } finally {
    await node.stop()
  }
}

/** Runs every test case of a fixture file. */
export async function runBlocktest (path: string): Promise<BlocktestResult[]> {
  const cases = JSON.parse(await readFile(path, 'utf8')) as Record<string, FixtureCase>
  const results: BlocktestResult[] = []
  for (const [id, c] of Object.entries(cases)) {
    try {
      results.push(await runCase(id, c))
    } catch (err) {
      results.push({ id, status: 'failed', detail: (err as Error).message })
    }
  }
  return results
}
