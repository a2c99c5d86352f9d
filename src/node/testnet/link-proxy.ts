/**
 * A TCP fault proxy on loopback in front of one member's private plane: every member dials every
 * other through the other's proxy (members announce the proxy's address, not their own), so each
 * connection between two members crosses exactly one proxy, which can delay it (`delayMs` each way:
 * a round trip of 2 × delayMs between every pair) or cut it (`block`: open connections dropped, new
 * ones refused). Order within a connection is kept: a chunk is never sent before one that came first.
 *
 * Owns LinkProxy.
 */
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'

export class LinkProxy {
  readonly port: number
  /** ms each chunk is held, each way */
  delayMs = 0
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #blocked = false

  private constructor (server: Server, port: number) {
    this.#server = server
    this.port = port
  }

  /** Listens on 127.0.0.1 (`port`, or any) and forwards each connection to 127.0.0.1:`targetPort`. */
  static async start (targetPort: number, port = 0): Promise<LinkProxy> {
    const accept: { fn?(s: Socket): void } = {}
    const server = createServer(inbound => { accept.fn?.(inbound) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => { resolve() })
    })
    const proxy = new LinkProxy(server, (server.address() as { port: number }).port)
    accept.fn = inbound => { proxy.#accept(inbound, targetPort) }
    return proxy
  }

  get blocked (): boolean {
    return this.#blocked
  }

  /** Cuts the link: connections through it are dropped, new ones refused, until `unblock`. */
  block (): void {
    this.#blocked = true
    for (const s of this.#sockets) { s.destroy() }
    this.#sockets.clear()
  }

  unblock (): void {
    this.#blocked = false
  }

  async stop (): Promise<void> {
    this.block()
    await new Promise(resolve => this.#server.close(resolve))
  }

  #accept (inbound: Socket, targetPort: number): void {
    if (this.#blocked) {
      inbound.destroy()
      return
    }
    const outbound = connect(targetPort, '127.0.0.1')
    for (const s of [inbound, outbound]) {
      this.#sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        this.#sockets.delete(s)
        inbound.destroy()
        outbound.destroy()
      })
    }
    this.#pipe(inbound, outbound)
    this.#pipe(outbound, inbound)
  }

  /** Forwards `from` to `to`, each chunk held `delayMs`, in order. */
  #pipe (from: Socket, to: Socket): void {
    let last = 0
    from.on('data', (chunk: Buffer) => {
      if (this.delayMs <= 0 && last <= Date.now()) {
        to.write(chunk)
        return
      }
      const at = Math.max(Date.now() + this.delayMs, last)
      last = at
      setTimeout(() => { if (!to.destroyed) { to.write(chunk) } }, at - Date.now())
    })
  }
}
