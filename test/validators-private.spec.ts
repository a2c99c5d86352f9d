/** The private plane's relay topics: hint and pool validators (pure, over the bytes). */
import { expect } from 'aegir/chai'
import { parseConfig } from '../src/config/index.ts'
import { encodeMessage, signHint } from '../src/proto/index.ts'
import { validateHintMessage, validatePoolMessage } from '../src/topics/index.ts'
import { configJson, memberKeys } from './fixtures/committee.ts'
import { EXAMPLES } from './fixtures/examples.ts'

const config = parseConfig(configJson(memberKeys(4)))
const domainId = config.root().bytes
const coBuilderKey = new Uint8Array(32).fill(0x42)
const hint = signHint(coBuilderKey, 12, { txs: [Uint8Array.from([0x02, 0xc0])], revertProtected: true }, domainId)

describe('topics: private relay validators', () => {
  describe('hint', () => {
    it('accepts a hint whose signature recovers its co-builder, and hands back the decoded hint', () => {
      const check = validateHintMessage(encodeMessage('HintBundle', hint), domainId)
      expect(check.verdict).to.equal('accept')
      expect(check.value?.slot).to.equal(12)
      expect(check.value?.coBuilder).to.deep.equal(hint.coBuilder)
    })

    it('rejects a forged co-builder address, another domain\'s signature and other kinds, with the reason', () => {
      const forged = validateHintMessage(encodeMessage('HintBundle', { ...hint, coBuilder: new Uint8Array(20).fill(9) }), domainId)
      expect(forged).to.deep.include({ verdict: 'reject' })
      expect(forged.reason).to.match(/bad hint signature/)
      expect(validateHintMessage(encodeMessage('HintBundle', hint), new Uint8Array(32)).verdict).to.equal('reject')
      const wrongKind = validateHintMessage(encodeMessage('PoolTransactions', { txs: [], sidecars: [] }), domainId)
      expect(wrongKind.verdict).to.equal('reject')
      expect(wrongKind.reason).to.match(/wrong topic for PoolTransactions/)
      expect(validateHintMessage(Uint8Array.from([1, 2, 3]), domainId).verdict).to.equal('reject')
    })
  })

  describe('pool', () => {
    it('accepts pool transactions and auction bids, with the decoded value', () => {
      const txs = validatePoolMessage(encodeMessage('PoolTransactions', { txs: [Uint8Array.from([1, 2])], sidecars: [] }))
      expect(txs.verdict).to.equal('accept')
      expect(txs.value?.kind).to.equal('PoolTransactions')
      const bid = validatePoolMessage(encodeMessage('AuctionBid', EXAMPLES.AuctionBid as never))
      expect(bid.verdict).to.equal('accept')
      expect(bid.value?.kind).to.equal('AuctionBid')
    })

    it('rejects a slot command or a hint on the pool topic', () => {
      expect(validatePoolMessage(encodeMessage('HintBundle', hint)).verdict).to.equal('reject')
      expect(validatePoolMessage(encodeMessage('MarkDone', { slot: 3 })).verdict).to.equal('reject')
    })
  })
})
