/**
 * The slot trigger: a slot is due when its payload attributes name the chain's head as parent,
 * whichever of the two arrives second; an event for another parent never opens a slot.
 */
import { expect } from 'aegir/chai'
import { SlotClock } from '../src/beacon/index.ts'
import { SlotTrigger } from '../src/node/index.ts'
import type { SlotEnvironment } from '../src/beacon/index.ts'
import type { RpcBlock } from '../src/chain/index.ts'

const clock = new SlotClock(Math.floor(Date.now() / 1000) - 500, 1)

const block = (n: number): RpcBlock => ({ number: `0x${n.toString(16)}`, hash: `0x${n.toString(16).padStart(64, '0')}`, timestamp: '0x0', gasLimit: '0x0' }) as unknown as RpcBlock
const envOn = (slot: number, parent: RpcBlock): SlotEnvironment => ({ slot, parentBlockHash: parent.hash, parentBlockNumber: Number(BigInt(parent.number)) }) as unknown as SlotEnvironment

function trigger (): { t: SlotTrigger, opened: Array<[number, string]>, retired: number[], polls: number } {
  const out = { opened: [] as Array<[number, string]>, retired: [] as number[], polls: 0 }
  const t = new SlotTrigger({
    clock,
    open: (env, parent) => { out.opened.push([env.slot, parent.hash]) },
    retire: slot => { out.retired.push(slot) },
    pollHead: () => { out.polls++ }
  })
  return Object.assign(out, { t, get polls () { return out.polls } })
}

describe('member: the slot trigger (payload attributes meet the head)', () => {
  it('head first, then its event: the slot opens on that head', () => {
    const s = trigger()
    s.t.onHead(block(5))
    expect(s.opened).to.deep.equal([])
    s.t.onEnvironment(envOn(505, block(5)))
    expect(s.opened).to.deep.equal([[505, block(5).hash]])
  })

  it('event first: it waits, asks for an early head poll, and opens once the head is its parent', () => {
    const s = trigger()
    s.t.onHead(block(4))
    s.t.onEnvironment(envOn(505, block(5)))
    expect(s.opened).to.deep.equal([])
    expect(s.polls).to.equal(1)
    s.t.onHead(block(5))
    expect(s.opened).to.deep.equal([[505, block(5).hash]])
    s.t.onHead(block(5))
    expect(s.opened, 'once').to.have.length(1)
  })

  it('an event for a parent that is not the head never opens; a newer slot\'s event takes the waiting place', () => {
    const s = trigger()
    s.t.onHead(block(7))
    s.t.onEnvironment(envOn(506, block(6)))
    s.t.onEnvironment(envOn(508, block(8)))
    s.t.onEnvironment(envOn(507, block(6)))
    s.t.onHead(block(6))
    expect(s.opened, 'slot 506 was replaced by the newer 508 while waiting').to.deep.equal([])
    s.t.onHead(block(8))
    expect(s.opened).to.deep.equal([[508, block(8).hash]])
  })

  it('every head and every event moves retirement along the slot clock', () => {
    const s = trigger()
    s.t.onHead(block(1))
    s.t.onEnvironment(envOn(501, block(1)))
    expect(s.retired).to.have.length(2)
    expect(s.retired[0]).to.be.within(clock.current() - 1, clock.current())
  })
})
