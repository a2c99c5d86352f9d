/**
 * The testnet's status page in a real browser (Debian's Chromium, headless, driven by
 * playwright-core): it shows the live committee, the slots as they seal and the seal-latency plot, and
 * a killed member turns unreachable. Where no Chromium is found the test says so and is marked pending:
 * it never passes silently.
 */
import { existsSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'aegir/chai'
import { chromium } from 'playwright-core'
import { Testnet } from '../../src/node/index.ts'
import { toHex } from '../../src/proto/index.ts'
import { until } from '../fixtures/network.ts'
import type { SlotRow } from '../../src/node/index.ts'
import type { Browser, Page } from 'playwright-core'

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(p => p != null && existsSync(p))

interface PageStatus { slots: SlotRow[], plot: Array<Array<number | null>>, members: Array<{ index: number, privatePeerId?: string, reachable: boolean }> }

describe('status page: the testnet in a browser', function () {
  this.timeout(240_000)
  let net: Testnet
  let browser: Browser
  let page: Page
  let shots: string

  before(async function () {
    if (CHROMIUM == null) {
      process.stderr.write('status page browser test NOT RUN: no Chromium found (install Debian\'s `chromium`, or set CHROMIUM_PATH)\n')
      this.skip()
    }
    shots = await mkdtemp(join(tmpdir(), 'atelier-status-'))
    net = await Testnet.start({ members: 4, blockTime: 1, txsPerSlot: 6, statusPort: 0 })
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  })

  after(async () => {
    await browser?.close()
    await net?.stop()
  })

  const status = async (): Promise<PageStatus> => page.evaluate(() => {
    const s = (window as unknown as { atelierStatus: { slots(): SlotRow[], plotData(): Array<Array<number | null>>, members(): PageStatus['members'] } }).atelierStatus
    return { slots: s.slots(), plot: s.plotData(), members: s.members() }
  })

  it('shows the live committee, the slots as they seal (table and plot) as the testnet itself saw them, and a killed member as unreachable', async () => {
    const url = net.statusPage?.url as string
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    await page.goto(url)
    const start = Math.max(0, ...net.candidates.keys())
    // at least 3 slots appear live (sealed after the page opened)
    await until(async () => (await status()).slots.filter(s => s.slot > start && s.outcome === 'sealed').length >= 3, 60_000, 'three slots live on the page')
    await until(async () => (await page.locator('#slots [data-slot]').count()) >= 3, 10_000, 'three rows in the table')

    // the table's rows against the testnet's own record (the follower's candidates)
    await net.waitForCandidates(net.candidates.size + 1)
    const seen = await status()
    let compared = 0
    for (const row of seen.slots) {
      const c = net.candidates.get(row.slot)
      if (c == null || row.outcome !== 'sealed') { continue }
      expect(row.blockHash, `slot ${row.slot}`).to.equal(`0x${toHex(c.header.blockHash)}`)
      expect(row.txs, `slot ${row.slot}`).to.equal(c.body.length)
      // two sealers of a slot (its opener, a takeover) may aggregate different majorities over the same
      // block, and the page shows the seal a member applied: a strict majority, not necessarily the
      // follower's set
      expect(row.agreement, `slot ${row.slot}`).to.be.within(3, 4)
      const cell = page.locator(`#slots [data-slot="${row.slot}"]`)
      if (await cell.count() > 0) { expect(await cell.innerText()).to.contain(String(row.slot)) }
      compared++
    }
    expect(compared).to.be.at.least(3)
    // the plot's points are the slots' seal latencies
    const [xs, ...series] = seen.plot
    const withLatency = seen.slots.filter(s => s.sealMs != null)
    expect(withLatency.length).to.be.at.least(3)
    for (const row of withLatency) {
      const i = xs.indexOf(row.slot)
      expect(i, `slot ${row.slot} on the plot`).to.be.at.least(0)
      expect(series.some(ys => ys[i] === row.sealMs), `slot ${row.slot}: its seal latency ${row.sealMs} on the plot`).to.equal(true)
    }
    // the member list against the testnet's members
    expect(seen.members.map(m => m.index)).to.deep.equal([0, 1, 2, 3])
    for (const m of seen.members) {
      expect(m.reachable, `member ${m.index}`).to.equal(true)
      expect(m.privatePeerId, `member ${m.index}`).to.equal(net.members[m.index].ready?.privatePeerId)
    }
    await page.screenshot({ path: join(shots, 'status-live.png'), fullPage: true })

    // a killed member shows unreachable within a few seconds
    net.killMember(1)
    await until(async () => (await page.locator('[data-member="1"] .unreachable').count()) > 0, 10_000, 'member 1 shown unreachable')
    expect((await status()).members.find(m => m.index === 1)?.reachable).to.equal(false)
    await page.screenshot({ path: join(shots, 'status-member-down.png'), fullPage: true })
    process.stderr.write(`status page screenshots: ${shots}\n`)
  })
})
