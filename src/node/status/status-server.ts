/**
 * The status page's HTTP server: the page, its assets (the page's own, and uPlot from the package) and
 * the event stream (`/events`: server-sent events, a `snapshot` on connect, then each change as it
 * happens; a comment every 15 s keeps proxies from closing an idle stream). Nothing else is served —
 * no directory, no file by path — and it listens on 127.0.0.1 unless told otherwise.
 *
 * Owns serveStatus.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { STATUS_CSS, STATUS_HTML, STATUS_JS } from './page.ts'
import type { StatusBook } from './status-book.ts'
import type { StatusEvent } from './status-types.ts'
import type { Server, ServerResponse } from 'node:http'

const HEARTBEAT_MS = 15_000
/** event streams open at once, at most (a page each); more get 503 */
export const MAX_STATUS_STREAMS = 64

interface Asset { type: string, body: string | Buffer }

/** The only paths served, and what each is: read once, at start. */
function assets (): Map<string, Asset> {
  const require = createRequire(import.meta.url)
  const uplot = (file: string): Buffer => readFileSync(require.resolve(`uplot/dist/${file}`))
  return new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: STATUS_HTML }],
    ['/assets/status.css', { type: 'text/css; charset=utf-8', body: STATUS_CSS }],
    ['/assets/status.js', { type: 'text/javascript; charset=utf-8', body: STATUS_JS }],
    ['/assets/uPlot.min.css', { type: 'text/css; charset=utf-8', body: uplot('uPlot.min.css') }],
    ['/assets/uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: uplot('uPlot.iife.min.js') }]
  ])
}

function send (res: ServerResponse, e: StatusEvent): void {
  res.write(`event: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`)
}

export interface StatusServer {
  server: Server
  port: number
  url: string
  close(): Promise<void>
}

/** Serves `book`'s page on host:port (port 0: any free port). */
export async function serveStatus (book: StatusBook, port: number, host = '127.0.0.1'): Promise<StatusServer> {
  const files = assets()
  const streams = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://status').pathname
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/events') {
      if (streams.size >= MAX_STATUS_STREAMS) {
        res.writeHead(503, { 'retry-after': '5' }).end('too many status streams')
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-content-type-options': 'nosniff' })
      streams.add(res)
      send(res, { type: 'snapshot', data: book.snapshot() })
      const unsubscribe = book.subscribe(e => { send(res, e) })
      const beat = setInterval(() => { res.write(': beat\n\n') }, HEARTBEAT_MS)
      beat.unref()
      res.on('close', () => {
        clearInterval(beat)
        unsubscribe()
        streams.delete(res)
      })
      return
    }
    const file = files.get(path)
    if (file == null) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' })
    res.end(req.method === 'HEAD' ? undefined : file.body)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { resolve() })
  })
  const bound = (server.address() as { port: number }).port
  return {
    server,
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    close: async () => {
      for (const s of streams) { s.end() }
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
