import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js'
import { expect } from 'aegir/chai'
import { ParentState, parentHeaderOf, ProvenParent, provenStateSource, rpcStateSource } from '../src/chain/index.ts'
import { makeCommon, simulateSlot } from '../src/core/index.ts'
import { TOKEN_CREATION_CODE } from '../src/node/workload/token-bytecode.ts'
import { ssz, toHex } from '../src/proto/index.ts'
import { anvilChain, asMined, mine, mixedTransactions, RULES } from './fixtures/chain-workload.ts'
import { compileToken } from './fixtures/solc.ts'
import type { RpcBlock } from '../src/chain/index.ts'
import type { SlotInputs, SlotResult } from '../src/core/index.ts'

describe('core: simulation on a real anvil', function () {
  this.timeout(120_000)
  const fx = anvilChain(24)

  async function head (): Promise<RpcBlock> {
    return fx.anvil.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', false])
  }

  function inputsOn (parent: RpcBlock, extra: Partial<SlotInputs> = {}): SlotInputs {
    return {
      parent: parentHeaderOf(parent),
      env: { timestamp: BigInt(parent.timestamp) + 12n, feeRecipient: new Uint8Array(20).fill(0xfe), prevRandao: new Uint8Array(32).fill(7), gasLimit: BigInt(parent.gasLimit) },
      hints: [],
      unsealed: [],
      ...extra
    }
  }

  async function simulate (inputs: SlotInputs): Promise<SlotResult> {
    return simulateSlot(inputs, RULES, rpcStateSource(new ParentState(fx.rpc, inputs.parent.number)))
  }

  it('the checked-in Token bytecode is what solc compiles from Token.sol', () => {
    const source = readFileSync(new URL('../src/node/workload/Token.sol', import.meta.url), 'utf8')
    expect(TOKEN_CREATION_CODE).to.equal(`0x${compileToken(source)}`)
  })

  it('agrees with anvil on per-transaction gas and status and on the receipts root (ETH + ERC-20, some reverting)', async () => {
    const m = await mine(fx.anvil, mixedTransactions(fx.chain.workload, fx.chain.token, 80))
    const result = await simulate(asMined(m))
    expect(result.excluded).to.deep.equal([])
    expect(result.included.map(t => t.hash)).to.deep.equal(m.receipts.map(r => r.transactionHash))
    expect(result.included.map(t => t.gasUsed)).to.deep.equal(m.receipts.map(r => BigInt(r.gasUsed)))
    expect(result.included.map(t => t.status)).to.deep.equal(m.receipts.map(r => Number(r.status)))
    expect(result.included.filter(t => t.status === 0).length).to.be.greaterThan(5)
    expect(bytesToHex(result.receiptsRoot)).to.equal(m.block.receiptsRoot)
    expect(bytesToHex(result.transactionsRoot)).to.equal(m.block.transactionsRoot)
    expect(result.gasUsed).to.equal(BigInt(m.block.gasUsed))
  })

  it('determinism: twice in this process and once in a child process give identical bytes', async () => {
    const parent = await head()
    const pool = mixedTransactions(fx.chain.workload, fx.chain.token, 40)
    // reset the local nonces: these transactions are simulated, never mined
    fx.chain.workload.nonces.forEach((_, i) => { fx.chain.workload.nonces[i] -= BigInt(pool.filter((_, j) => j % fx.chain.workload.keys.length === i).length) })
    const inputs = inputsOn(parent, { unsealed: [...pool].reverse() })
    const a = await simulate(inputs)
    const b = await simulate({ ...inputs, unsealed: pool })
    expect(a.body.map(toHex)).to.deep.equal(b.body.map(toHex))
    expect(a.included.map(t => t.gasUsed)).to.deep.equal(b.included.map(t => t.gasUsed))
    expect(toHex(a.receiptsRoot)).to.equal(toHex(b.receiptsRoot))
    expect(a.body.length).to.equal(40)

    const job = {
      url: fx.anvil.url,
      rules: RULES,
      parent: { number: parent.number, hash: parent.hash, timestamp: parent.timestamp, gasLimit: parent.gasLimit, gasUsed: parent.gasUsed, baseFeePerGas: parent.baseFeePerGas },
      env: { timestamp: (BigInt(parent.timestamp) + 12n).toString(), feeRecipient: 'fe'.repeat(20), prevRandao: '07'.repeat(32), gasLimit: parent.gasLimit },
      unsealed: pool.map(toHex)
    }
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/simulate-child.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] })
    child.stdin.end(JSON.stringify(job))
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const code = await new Promise(resolve => child.on('close', resolve))
    clearTimeout(timer)
    expect(code).to.equal(0)
    const c = JSON.parse(out)
    expect(c.body).to.deep.equal(a.body.map(toHex))
    expect(c.gas).to.deep.equal(a.included.map(t => t.gasUsed.toString()))
    expect(c.receiptsRoot).to.equal(toHex(a.receiptsRoot))
    // on proven state here too: the whole header, state root and block hash included, byte for byte
    const here = await simulateSlot({ ...inputs, unsealed: pool }, RULES, provenStateSource(await ProvenParent.open(fx.rpc, parent.hash)))
    expect(here.stateRoot, 'a post-state root').to.not.equal(undefined)
    expect(c.header).to.equal(toHex(ssz.CandidateHeader.serialize(here.header)))
  })

  it('the access-list warm-up cuts round trips and never changes the result', async () => {
    const parent = await head()
    const w = fx.chain.workload
    const base = [...w.nonces]
    const inputs = inputsOn(parent, { unsealed: mixedTransactions(w, fx.chain.token, 30) })
    w.nonces.splice(0, w.nonces.length, ...base)
    const warmState = new ParentState(fx.rpc, inputs.parent.number)
    const coldState = new ParentState(fx.rpc, inputs.parent.number)
    const { prefetchCalls: _unused, ...withoutWarmup } = rpcStateSource(coldState)
    const warm = await simulateSlot(inputs, RULES, rpcStateSource(warmState))
    const cold = await simulateSlot(inputs, RULES, withoutWarmup)
    expect(warm.body.map(toHex)).to.deep.equal(cold.body.map(toHex))
    expect(toHex(warm.receiptsRoot)).to.equal(toHex(cold.receiptsRoot))
    expect(warm.included.map(t => t.gasUsed)).to.deep.equal(cold.included.map(t => t.gasUsed))
    expect(warmState.requests).to.be.lessThan(coldState.requests)
    expect(warmState.requests).to.be.lessThan(coldState.requests / 2)
  })

  it('revert protection: a protected bundle that reverts leaves no trace in state or body', async () => {
    const w = fx.chain.workload
    const parent = await head()
    const base = [...w.nonces]
    const [a, b] = [3, 4]
    // the bundle: A sends B 500 tokens, then reverts (A transfers far more than it has)
    const give = w.tokenTransfer(a, fx.chain.token, w.addresses[b], 500n)
    const boom = w.tokenTransfer(a, fx.chain.token, w.addresses[b], 10n ** 30n)
    // pool: B spends more than it had before the bundle (succeeds only if the bundle's write survived);
    // A reuses the bundle's first nonce (valid only if the bundle's nonce bump was undone)
    const nonceA = w.nonces[a]
    w.nonces[a] = base[a]
    const aAgain = w.ethTransfer(a, w.addresses[5], 1n)
    const aNext = w.ethTransfer(a, w.addresses[5], 2n)
    w.nonces[a] = nonceA
    const bSpends = w.tokenTransfer(b, fx.chain.token, w.addresses[6], 1_000_200n)
    const result = await simulate(inputsOn(parent, { auctionWinner: { txs: [give, boom], revertProtected: true }, unsealed: [aAgain, aNext, bSpends] }))
    expect(result.body.map(toHex)).to.not.include(toHex(give))
    expect(result.body.map(toHex)).to.not.include(toHex(boom))
    expect(result.excluded.filter(e => e.origin === 'auction').map(e => e.reason)).to.have.length(2)
    expect(result.excluded.find(e => e.origin === 'auction')?.reason).to.match(/revert-protected bundle excluded whole/)
    const statusOf = (raw: Uint8Array): number | undefined => result.included.find(t => t.hash === bytesToHex(keccak256(raw)))?.status
    expect(statusOf(aAgain)).to.equal(1)
    expect(statusOf(aNext)).to.equal(1)
    // B's token balance never received the 500: its over-spend reverts
    expect(statusOf(bSpends)).to.equal(0)

    // the same bundle without protection lands, revert and all
    const open = await simulate(inputsOn(parent, { auctionWinner: { txs: [give, boom], revertProtected: false } }))
    expect(open.included.map(t => t.status)).to.deep.equal([1, 0])
    w.nonces.splice(0, w.nonces.length, ...base)
  })

  it('excludes malformed bytes, wrong chain id, oversize gas and invalid nonces with a reason', async () => {
    const parent = await head()
    const w = fx.chain.workload
    const base = [...w.nonces]
    const common = makeCommon({ chainId: 1, hardfork: 'bpo1' })
    const otherChain = createTx({ type: 2, chainId: 1n, nonce: 0n, gasLimit: 21000n, maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 10n ** 9n, to: w.addresses[0] as `0x${string}`, value: 1n }, { common }).sign(w.keys[7]).serialize()
    const huge = createTx({ type: 2, chainId: 31337n, nonce: 0n, gasLimit: 20_000_000n, maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 10n ** 9n, to: w.addresses[0] as `0x${string}`, value: 1n }, { common: makeCommon({ chainId: 31337, hardfork: 'prague' }) }).sign(w.keys[7]).serialize()
    w.nonces[8] += 5n
    const gap = w.ethTransfer(8, w.addresses[0], 1n)
    const result = await simulate(inputsOn(parent, { unsealed: [Uint8Array.from([0x02, 0xff, 0x00]), otherChain, huge, gap, new Uint8Array(0)] }))
    expect(result.body).to.have.length(0)
    const reasons = result.excluded.map(e => e.reason)
    expect(reasons.some(r => /malformed/.test(r))).to.equal(true)
    expect(reasons.some(r => /chain id/.test(r))).to.equal(true)
    expect(reasons.some(r => /EIP-7825/.test(r))).to.equal(true)
    expect(reasons.some(r => /nonce/.test(r))).to.equal(true)
    expect(reasons.some(r => /empty/.test(r))).to.equal(true)
    w.nonces.splice(0, w.nonces.length, ...base)
  })

  it('pins BLOCKHASH and the EIP-2935 history write as anvil does (logged and compared by receipts root)', async () => {
    // init code that logs BLOCKHASH(number − 1) and what the EIP-2935 history contract answers for it
    const code = '60014303406000526001430360205260206040602060206000' + '730000f90827f1c53a10cb7a02335b175320002935' + '5af15060606000a000'
    const w = fx.chain.workload
    const probe = createTx({
      type: 2, chainId: 31337n, nonce: w.nonces[9]++, gasLimit: 200_000n, maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 10n ** 9n, data: hexToBytes(`0x${code}`)
    }, { common: makeCommon(RULES) }).sign(w.keys[9]).serialize()
    const m = await mine(fx.anvil, [probe])
    expect(m.receipts[0].status).to.equal('0x1')
    const logs = (await fx.anvil.rpc<{ logs: Array<{ data: string }> }>('eth_getTransactionReceipt', [m.receipts[0].transactionHash])).logs
    expect(logs[0].data.slice(2, 66)).to.equal(m.parent.hash.slice(2))
    expect(logs[0].data.slice(130, 194)).to.equal(m.parent.hash.slice(2))
    const result = await simulate(asMined(m))
    expect(bytesToHex(result.receiptsRoot)).to.equal(m.block.receiptsRoot)
  })
})
