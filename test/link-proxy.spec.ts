/**
 * The testnet's link proxy over loopback: bytes go through in order (with a delay too), a cut link
 * drops what is open and refuses new connections until it is healed.
 */
import { createServer, connect } from 'node:net'
import { expect } from 'aegir/chai'
import { LinkProxy } from '../src/node/testnet/index.ts'
import { until } from './fixtures/network.ts'
import type { Server, Socket } from 'node:net'

describe('testnet: link proxy', () => {
  let echo: Server
  let port: number
  before(async () => {
    echo = createServer(s => { s.on('error', () => {}); s.pipe(s) })
    await new Promise<void>(resolve => echo.listen(0, '127.0.0.1', () => { resolve() }))
    port = (echo.address() as { port: number }).port
  })
  after(async () => { await new Promise(resolve => echo.close(resolve)) })

  const open = async (p: number): Promise<{ socket: Socket, received(): string, closed(): boolean }> => {
    const socket = connect(p, '127.0.0.1')
    let data = ''
    let closed = false
    socket.on('data', d => { data += d.toString() })
    socket.on('error', () => {})
    socket.on('close', () => { closed = true })
    await new Promise<void>((resolve, reject) => { socket.once('connect', () => { resolve() }); socket.once('error', reject) })
    return { socket, received: () => data, closed: () => closed }
  }

  it('forwards both ways in order, delayed or not', async () => {
    const proxy = await LinkProxy.start(port)
    try {
      const c = await open(proxy.port)
      c.socket.write('a')
      proxy.delayMs = 30
      for (const ch of 'bcdef') { c.socket.write(ch) }
      proxy.delayMs = 0
      c.socket.write('g')
      await until(() => c.received().length === 7, 5000, 'the echo')
      expect(c.received()).to.equal('abcdefg')
      c.socket.destroy()
    } finally {
      await proxy.stop()
    }
  })

  it('a cut link drops open connections and refuses new ones until healed', async () => {
    const proxy = await LinkProxy.start(port)
    try {
      const c = await open(proxy.port)
      proxy.block()
      await until(() => c.closed(), 5000, 'the open connection dropped')
      const refused = await open(proxy.port)
      await until(() => refused.closed(), 5000, 'a new connection refused')
      proxy.unblock()
      const again = await open(proxy.port)
      again.socket.write('h')
      await until(() => again.received() === 'h', 5000, 'the echo after the heal')
      again.socket.destroy()
    } finally {
      await proxy.stop()
    }
  })
})
