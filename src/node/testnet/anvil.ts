/**
 * anvil (foundry's local Ethereum node, shipped by `@foundry-rs/anvil`) on loopback: the binary is
 * started directly so we own its pid, on 127.0.0.1 and a free port, and stopped by pid.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChildProcess } from 'node:child_process'

export function anvilBinary (): string {
  const require = createRequire(import.meta.url)
  try {
    return join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil')
  } catch {
    throw new Error('the anvil binary is missing: `npm ci` installs @foundry-rs/anvil (linux x64)')
  }
}

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { resolve(typeof address === 'object' && address != null ? address.port : 0) })
    })
  })
}

export interface AnvilOptions {
  /**
   * genesis timestamp: by default a fixed one for chains mined on demand (reproducible), and now for
   * interval-mined chains, whose blocks then keep the wall clock's time as a real chain's slots do
   */
  timestamp?: number
  /** seconds between blocks; undefined = automine */
  blockTime?: number
  noMining?: boolean
  order?: 'fees' | 'fifo'
  accounts?: number
}

/** A development chain the testnet drives: its JSON-RPC URL, calls to it, and letting it go. */
export interface DevChain {
  readonly url: string
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>
  stop(): Promise<void>
}

/** One JSON-RPC call; an error answer throws with the method named. */
export async function jsonRpc<T = unknown> (url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(10_000)
  })
  const json = await res.json() as { result?: T, error?: { message: string } }
  if (json.error != null) {
    throw new Error(`${method}: ${json.error.message}`)
  }
  return json.result as T
}

/**
 * A chain the user already runs (`atelier testnet --chain-rpc URL`): an anvil, or a node with anvil's
 * cheatcodes. It is switched to mining on demand (`evm_setAutomine false`, no interval) so the
 * proposer decides every block; it must order its pool first in, first out (anvil `--order fifo`),
 * or the second-EVM check reports the first transaction out of place. Stopping leaves it running.
 */
export class ExternalChain implements DevChain {
  readonly url: string

  private constructor (url: string) {
    this.url = url
  }

  static async connect (url: string): Promise<ExternalChain> {
    const chain = new ExternalChain(url)
    try {
      await chain.rpc('eth_chainId')
    } catch (err) {
      throw new Error(`the chain at ${url} does not answer JSON-RPC: ${(err as Error).message}`)
    }
    try {
      await chain.rpc('evm_setAutomine', [false])
      await chain.rpc('evm_setIntervalMining', [0])
    } catch (err) {
      throw new Error(`the chain at ${url} cannot be told when to mine (it needs anvil's evm_setAutomine and evm_setIntervalMining): ${(err as Error).message}`)
    }
    return chain
  }

  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return jsonRpc<T>(this.url, method, params)
  }

  async stop (): Promise<void> {}
}

export class Anvil implements DevChain {
  readonly url: string
  readonly port: number
  readonly #child: ChildProcess

  private constructor (port: number, child: ChildProcess) {
    this.port = port
    this.url = `http://127.0.0.1:${port}`
    this.#child = child
  }

  get pid (): number | undefined {
    return this.#child.pid
  }

  static async start (options: AnvilOptions = {}): Promise<Anvil> {
    const port = await freePort()
    const args = ['--host', '127.0.0.1', '--port', String(port), '--timestamp', String(options.timestamp ?? (options.blockTime != null ? Math.floor(Date.now() / 1000) : 1_750_000_000)),
      '--accounts', String(options.accounts ?? 10), '--silent']
    if (options.blockTime != null) { args.push('--block-time', String(options.blockTime)) }
    if (options.noMining === true) { args.push('--no-mining') }
    if (options.order != null) { args.push('--order', options.order) }
    const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const anvil = new Anvil(port, child)
    for (let i = 0; i < 200; i++) {
      if (child.exitCode != null) {
        throw new Error(`anvil exited with ${child.exitCode}: ${stderr}`)
      }
      try {
        await anvil.rpc('eth_chainId')
        return anvil
      } catch {
        await sleep(50)
      }
    }
    await anvil.stop()
    throw new Error(`anvil did not answer on ${anvil.url} within 10 s: ${stderr}`)
  }

  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return jsonRpc<T>(this.url, method, params)
  }

  async stop (): Promise<void> {
    if (this.#child.exitCode != null || this.#child.signalCode != null) {
      return
    }
    const exited = new Promise(resolve => this.#child.once('exit', resolve))
    this.#child.kill('SIGTERM')
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
}
