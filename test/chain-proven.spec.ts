/**
 * Parent state the RPC cannot falsify, on a real anvil: headers hash to the block hashes anvil gives,
 * a slot simulated on proven state reproduces anvil's post-state root (on blocks that zero no storage,
 * where anvil's root is canonical), and a loopback proxy that alters one answer — a balance, a proof
 * node, code, a header — makes the read fail with `parent-state-proof` instead of answering.
 */
import { createBlob4844Tx, createTx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { expect } from 'aegir/chai'
import { ChainRpc, headerHash, ParentStateProofError, ProvenParent, ProvenParentCache, provenStateSource } from '../src/chain/index.ts'
import { makeCommon, simulateSlot } from '../src/core/index.ts'
import { executionBlockHash, orderedTrieRoot } from '../src/proto/index.ts'
import { canonicalRoot, dumpState } from './fixtures/canonical-state.ts'
import { anvilChain, asMined, mine, mixedTransactions, RULES } from './fixtures/chain-workload.ts'
import { TamperingProxy } from './fixtures/tampering-proxy.ts'
import type { Rewrite } from './fixtures/tampering-proxy.ts'
import type { RpcBlock } from '../src/chain/index.ts'

describe('chain: proven parent state', function () {
  this.timeout(120_000)
  const fx = anvilChain(12)

  it('hashes every header (from block 1 on) to the hash anvil reports', async () => {
    await mine(fx.anvil, mixedTransactions(fx.chain.workload, fx.chain.token, 10))
    const latest = Number(BigInt(await fx.anvil.rpc<string>('eth_blockNumber')))
    expect(latest).to.be.at.least(2)
    for (let n = 1; n <= latest; n++) {
      const block = await fx.anvil.rpc<RpcBlock>('eth_getBlockByNumber', [`0x${n.toString(16)}`, false])
      expect(bytesToHex(headerHash(block)), `block ${n}`).to.equal(block.hash)
    }
  })

  it('simulates a mined block on proven state and reproduces anvil\'s post-state root, receipts root and balances', async () => {
    const m = await mine(fx.anvil, mixedTransactions(fx.chain.workload, fx.chain.token, 40))
    expect(m.receipts.some(r => r.status === '0x0'), 'the workload has reverts').to.equal(true)
    const parent = await new ProvenParentCache(fx.rpc).get(m.parent.hash)
    const result = await simulateSlot(asMined(m), RULES, provenStateSource(parent))
    expect(result.included).to.have.length(m.raws.length)
    expect(bytesToHex(result.receiptsRoot)).to.equal(m.block.receiptsRoot)
    expect(bytesToHex(result.stateRoot as Uint8Array)).to.equal(m.block.stateRoot)
    // every header field is anvil's, and so is the block hash
    const h = result.header
    const ours: Record<string, string> = {
      parentHash: bytesToHex(h.parentHash),
      miner: bytesToHex(h.feeRecipient),
      stateRoot: bytesToHex(h.stateRoot),
      receiptsRoot: bytesToHex(h.receiptsRoot),
      logsBloom: bytesToHex(h.logsBloom),
      mixHash: bytesToHex(h.prevRandao),
      number: `0x${h.number.toString(16)}`,
      gasLimit: `0x${h.gasLimit.toString(16)}`,
      gasUsed: `0x${h.gasUsed.toString(16)}`,
      timestamp: `0x${h.timestamp.toString(16)}`,
      extraData: bytesToHex(h.extraData),
      baseFeePerGas: `0x${h.baseFeePerGas.toString(16)}`,
      transactionsRoot: bytesToHex(h.transactionsRoot),
      withdrawalsRoot: bytesToHex(h.withdrawalsRoot),
      blobGasUsed: `0x${h.blobGasUsed.toString(16)}`,
      excessBlobGas: `0x${h.excessBlobGas.toString(16)}`,
      parentBeaconBlockRoot: bytesToHex(h.parentBeaconBlockRoot),
      requestsHash: bytesToHex(h.requestsHash),
      hash: bytesToHex(h.blockHash)
    }
    const theirs = Object.fromEntries(Object.keys(ours).map(k => [k, String(m.block[k]).toLowerCase()]))
    expect(ours).to.deep.equal(theirs)
    // the block value: what the fee recipient earned, every transaction's gas at its tip over the base fee
    const receipts = await fx.anvil.rpc<Array<{ gasUsed: string, effectiveGasPrice: string }>>('eth_getBlockReceipts', [m.block.number])
    const tips = receipts.reduce((sum, r) => sum + BigInt(r.gasUsed) * (BigInt(r.effectiveGasPrice) - BigInt(m.block.baseFeePerGas as string)), 0n)
    expect(tips > 0n).to.equal(true)
    expect(result.blockValue === tips, `block value ${result.blockValue} = tips ${tips}`).to.equal(true)
    // a fresh state manager on the same parent reads the parent's (proven) values, not the block's
    const sm = provenStateSource(parent).stateManager(makeCommon(RULES))
    const who = fx.chain.workload.addresses[3]
    const before = await sm.getAccount(createAddressFromString(who))
    expect(before?.balance).to.equal(BigInt(await fx.anvil.rpc<string>('eth_getBalance', [who, m.parent.number])))
  })

  it('proves absence: an account the chain never saw reads as absent, with a proof', async () => {
    const head = await fx.anvil.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    const parent = await ProvenParent.open(fx.rpc, head.hash)
    expect(await parent.account('0x00000000000000000000000000000000deadbeef')).to.equal(undefined)
    expect((await parent.account(fx.chain.workload.addresses[0]))?.nonce).to.equal(BigInt(fx.chain.workload.nonces[0]))
  })

  it('deletions: whole-balance token transfers (several zeroed slots in one storage trie), a contract created and destroyed in one transaction, an emptied balance — the root equals the canonical one', async () => {
    const w = fx.chain.workload
    const common = makeCommon(RULES)
    const fees = { maxPriorityFeePerGas: 10n ** 9n, maxFeePerGas: 10n ** 11n }
    const txs: Uint8Array[] = []
    // every token balance of senders 0–7 goes to sender 11: eight slots of one trie set to zero
    for (let i = 0; i < 8; i++) {
      const balance = BigInt(await fx.anvil.rpc<string>('eth_call', [{ to: fx.chain.token, data: `0x70a08231${w.addresses[i].slice(2).padStart(64, '0')}` }, 'latest']))
      txs.push(w.tokenTransfer(i, fx.chain.token, w.addresses[11], balance, fees))
    }
    // init code: SSTORE(0, 1), then SELFDESTRUCT to the caller (EIP-6780: deleted, created in this transaction)
    txs.push(createTx({ type: 2, chainId: 31337n, nonce: w.nonces[9]++, gasLimit: 200_000n, ...fees, data: hexToBytes('0x600160005533ff') }, { common }).sign(w.keys[9]).serialize())
    const m = await mine(fx.anvil, txs)
    expect(m.receipts.map(r => r.status)).to.deep.equal(txs.map(() => '0x1'))
    const parent = await new ProvenParentCache(fx.rpc).get(m.parent.hash)
    const result = await simulateSlot(asMined(m), RULES, provenStateSource(parent))
    expect(bytesToHex(result.receiptsRoot)).to.equal(m.block.receiptsRoot)
    const canonical = bytesToHex(await canonicalRoot(await dumpState(fx.anvil)))
    expect(bytesToHex(result.stateRoot as Uint8Array), 'the canonical post-state root').to.equal(canonical)
    expect(canonical, 'anvil keeps the zeroed slots as leaves: its root is not the oracle here').to.not.equal(m.block.stateRoot)
    expect(parent.collapseProofs, 'a deletion needed a node outside the touched keys\' proofs').to.be.greaterThan(0)
  })

  it('blob transactions (type 3, Osaka cell proofs) decode and execute with blob-gas accounting; the header is anvil\'s but for its non-canonical transactions root', async () => {
    const w = fx.chain.workload
    const common = makeCommon(RULES)
    const fields = { chainId: 31337n, nonce: w.nonces[10]++, maxPriorityFeePerGas: 10n ** 9n, maxFeePerGas: 10n ** 11n, gasLimit: 21_000n }
    const tx = createBlob4844Tx({ ...fields, to: w.addresses[1] as `0x${string}`, value: 0n, maxFeePerBlobGas: 10n ** 10n, blobsData: ['atelier'] }, { common }).sign(w.keys[10])
    const network = tx.serializeNetworkWrapper()
    await fx.anvil.rpc('eth_sendRawTransaction', [bytesToHex(network)])
    await fx.anvil.rpc('evm_mine')
    const block = await fx.anvil.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    const parent = await fx.anvil.rpc<RpcBlock>('eth_getBlockByNumber', [`0x${(BigInt(block.number) - 1n).toString(16)}`, false])
    const m = { block, parent, receipts: [], raws: [tx.serialize()] }
    const result = await simulateSlot(asMined(m), RULES, provenStateSource(await new ProvenParentCache(fx.rpc).get(parent.hash)))
    expect(result.included).to.have.length(1)
    expect(tx.blobVersionedHashes.length).to.be.at.least(1)
    expect(result.header.blobGasUsed).to.equal(tx.blobVersionedHashes.length * 131_072)
    expect(`0x${result.header.blobGasUsed.toString(16)}`).to.equal(block.blobGasUsed)
    expect(`0x${result.header.excessBlobGas.toString(16)}`).to.equal(block.excessBlobGas)
    // anvil 1.7.1 roots its transactions trie over the network form (blobs and all); ours is the canonical one
    expect(block.transactionsRoot).to.equal(bytesToHex(orderedTrieRoot([network])))
    expect(bytesToHex(result.header.transactionsRoot)).to.equal(bytesToHex(orderedTrieRoot([tx.serialize()])))
    // with anvil's root in its place, our header hashes to anvil's block: every other field is equal
    const substituted = { ...result.header, transactionsRoot: hexToBytes(block.transactionsRoot as `0x${string}`) }
    expect(bytesToHex(executionBlockHash(substituted))).to.equal(block.hash)
  })

  describe('an RPC that alters one answer', () => {
    let proxy: TamperingProxy
    let head: RpcBlock
    before(async () => {
      proxy = await TamperingProxy.start(fx.anvil.url)
      head = await fx.anvil.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    })
    afterEach(() => { proxy.victim = undefined })
    after(async () => { await proxy?.stop() })

    const refused = async (p: Promise<unknown>, detail: RegExp): Promise<void> => {
      const err = await p.then(() => undefined, (e: unknown) => e)
      expect(err).to.be.instanceOf(ParentStateProofError)
      expect((err as ParentStateProofError).code).to.equal('parent-state-proof')
      expect((err as Error).message).to.match(detail)
    }
    const target = (): string => fx.chain.workload.addresses[5].toLowerCase()

    it('a balance raised in the answer (proof untouched) is refused', async () => {
      const rewrite: Rewrite = (method, params, result) => method === 'eth_getProof' && String(params[0]).toLowerCase() === target()
        ? { ...(result as object), balance: '0xffffffffffffffffffff' }
        : result
      proxy.victim = { rewrite }
      const parent = await ProvenParent.open(new ChainRpc(proxy.url), head.hash)
      await refused(parent.account(target()), /disagrees with its own proof/)
    })

    it('a proof whose leaf carries another balance is refused (it no longer reaches the state root)', async () => {
      const rewrite: Rewrite = (method, params, result) => {
        if (method !== 'eth_getProof' || String(params[0]).toLowerCase() !== target()) { return result }
        const r = result as { accountProof: string[] }
        const leaf = r.accountProof.at(-1) as string
        // flip one nibble in the leaf's last bytes (inside the account's RLP)
        const i = leaf.length - 80
        const flipped = leaf.slice(0, i) + (leaf[i] === 'a' ? 'b' : 'a') + leaf.slice(i + 1)
        return { ...r, accountProof: [...r.accountProof.slice(0, -1), flipped] }
      }
      proxy.victim = { rewrite }
      const parent = await ProvenParent.open(new ChainRpc(proxy.url), head.hash)
      await refused(parent.account(target()), /does not reach the parent's state root/)
    })

    it('code that does not hash to the proven code hash is refused', async () => {
      proxy.victim = { rewrite: (method, _params, result) => method === 'eth_getCode' ? `${String(result)}00` : result }
      const parent = await ProvenParent.open(new ChainRpc(proxy.url), head.hash)
      await refused(parent.code(fx.chain.token), /does not hash to the proven code hash/)
    })

    it('a header served for the pinned hash with another state root is refused', async () => {
      proxy.victim = { rewrite: (method, _params, result) => method === 'eth_getBlockByHash' ? { ...(result as object), stateRoot: `0x${'11'.repeat(32)}` } : result }
      await refused(ProvenParent.open(new ChainRpc(proxy.url), head.hash), /hashes to/)
    })
  })
})
