/**
 * The fault-schedule harness in `npm test`: a short seeded schedule (a leader killed mid-slot, two
 * restarts with the data wiped, a minority partitioned off) over a 4-member testnet whose members
 * reach each other only through link proxies, then every check of the harness.
 */
import { expect } from 'aegir/chai'
import { chaosSchedule, runChaos } from '../../src/node/testnet/index.ts'

describe('chaos: a seeded fault schedule over the testnet', function () {
  this.timeout(300_000)

  it('the same seed is the same schedule; different seeds differ', () => {
    expect(chaosSchedule(3, 20, 4)).to.deep.equal(chaosSchedule(3, 20, 4))
    expect(chaosSchedule(3, 20, 4)).to.not.deep.equal(chaosSchedule(4, 20, 4))
    for (const f of chaosSchedule(3, 60, 7)) {
      if (f.kind === 'partition') { expect(f.members.length, 'a minority').to.be.at.most(3) }
      if (f.kind === 'delay') { expect(f.delayMs).to.be.within(20, 100) }
    }
  })

  it('seed 20 over 20 slots: one block per slot, every candidate verifies, no record signs twice, sealing resumes after each heal, the follower holds every sealed slot', async () => {
    const kinds = chaosSchedule(20, 20, 4).map(f => f.kind)
    expect(kinds).to.include.members(['kill-leader', 'partition', 'wipe-restart'])
    const verdict = await runChaos({ seed: 20, slots: 20, members: 4 })
    expect(verdict.schedule).to.have.length(kinds.length)
    expect(verdict.violations, verdict.schedule.join('\n')).to.deep.equal([])
    expect(verdict.sealedSlots).to.be.at.least(15)
  })
})
