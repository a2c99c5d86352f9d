import { request } from 'node:http'
import { expect } from 'aegir/chai'
import { serveStatus, StatusBook } from '../src/node/index.ts'
import type { StatusServer } from '../src/node/index.ts'

/** One raw request (no URL normalisation on the way: `..` reaches the server as sent). */
async function raw (port: number, method: string, path: string): Promise<{ status: number, type?: string, body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, res => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

describe('node: the status server', () => {
  let book: StatusBook
  let page: StatusServer

  before(async () => {
    book = new StatusBook('member', 0)
    page = await serveStatus(book, 0)
  })

  after(async () => { await page.close() })

  it('listens on loopback only, by default', () => {
    expect((page.server.address() as { address: string }).address).to.equal('127.0.0.1')
    expect(page.url).to.equal(`http://127.0.0.1:${page.port}/`)
  })

  it('serves the page and its assets, and nothing else: no listing, no file by path, no other method', async () => {
    for (const [path, type] of [['/', 'text/html'], ['/assets/status.js', 'text/javascript'], ['/assets/status.css', 'text/css'], ['/assets/uPlot.iife.min.js', 'text/javascript'], ['/assets/uPlot.min.css', 'text/css']]) {
      const r = await raw(page.port, 'GET', path)
      expect(r.status, path).to.equal(200)
      expect(r.type, path).to.match(new RegExp(`^${type}`))
      expect(r.body.length, path).to.be.greaterThan(100)
    }
    for (const path of ['/assets/', '/assets', '/assets/../package.json', '/../../package.json', '/%2e%2e/package.json', '/etc/passwd', '/index.html', '/assets/uplot/dist/uPlot.cjs.js', '/src/node/status/page.ts', '/node_modules/uplot/package.json']) {
      const r = await raw(page.port, 'GET', path)
      expect(r.status, path).to.equal(404)
      expect(r.body, path).to.equal('not found')
    }
    expect((await raw(page.port, 'POST', '/')).status).to.equal(405)
    expect((await raw(page.port, 'DELETE', '/events')).status).to.equal(405)
  })

  it('streams a snapshot, then each change once; a change that changes nothing is not sent', async () => {
    book.upsertSlot({ slot: 7, leader: 3, outcome: 'sealed', committee: 4, txs: 2 })
    const abort = new AbortController()
    const res = await fetch(`${page.url}events`, { signal: abort.signal })
    expect(res.headers.get('content-type')).to.equal('text/event-stream')
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    const until = async (pattern: RegExp): Promise<void> => {
      for (let i = 0; i < 50 && !pattern.test(text); i++) {
        const { value, done } = await reader.read()
        if (done) { break }
        text += new TextDecoder().decode(value)
      }
    }
    await until(/event: snapshot\ndata: .*\n\n/)
    const snapshot = JSON.parse(/event: snapshot\ndata: (.*)\n/.exec(text)?.[1] ?? '{}')
    expect(snapshot).to.deep.include({ kind: 'member', index: 0 })
    expect(snapshot.slots).to.deep.equal([{ slot: 7, leader: 3, outcome: 'sealed', committee: 4, txs: 2 }])
    book.upsertSlot({ slot: 7, leader: 3, outcome: 'sealed', committee: 4, txs: 2 }) // the same: not sent
    book.upsertSlot({ slot: 8, leader: 0, outcome: 'missed', committee: 4 })
    book.setCounters({ divergence: 1 })
    await until(/event: counters/)
    const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map(m => [m[1], JSON.parse(m[2])])
    expect(events.map(e => e[0])).to.deep.equal(['snapshot', 'slot', 'counters'])
    expect(events[1][1]).to.deep.equal({ slot: 8, leader: 0, outcome: 'missed', committee: 4 })
    abort.abort()
  })

  it('keeps STATUS_SLOTS slots at most, the newest', () => {
    const b = new StatusBook('testnet')
    for (let s = 0; s < 2100; s++) { b.upsertSlot({ slot: s, leader: s % 4, outcome: 'sealed', committee: 4 }) }
    const slots = b.snapshot().slots
    expect(slots).to.have.length(2000)
    expect(slots[0].slot).to.equal(100)
    expect(slots.at(-1)?.slot).to.equal(2099)
  })
})
