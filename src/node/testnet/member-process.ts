/** A member as a separate OS process (`atelier node`), so tests and the testnet can kill one. */
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { extname } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import type { WriteStream } from 'node:fs'

/** The CLI entry next to this module: src/cli/bin.ts from source, dist/src/cli/bin.js when built. */
/**
 * V8 flags a member runs with (bin.ts's shebang carries the same; test/cli.spec.ts holds them equal).
 * Measured in a 4-member, 1-s-slot testnet (20 transactions per slot) on Node 24: by default the
 * young generation's semi-spaces are sized for a large machine and old space grows to ~3× what is
 * live before a full collection, so member RSS reached 650-695 MB by slot 200 over ~100 MB live.
 * With 8 MB semi-spaces and old space allowed 1.3× its live size after each collection the heap
 * committed stays at 108-137 MB (RSS 224-273 MB with MEMBER_NODE_ENV) over 2000 slots, at 45 major
 * collections of ~23 ms per 300 slots; BENCHMARKS.md `soak` has the 2000-slot run.
 */
export const MEMBER_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=30']

/**
 * Environment a member runs with (the shebang again): glibc gives each thread that allocates its own
 * arena (up to 8 per core), and a member's arenas held 45 MB of its ~300 MB RSS in the soak.
 */
export const MEMBER_NODE_ENV: Record<string, string> = { MALLOC_ARENA_MAX: '2' }

export const CLI_ENTRY = fileURLToPath(new URL(`../../cli/bin${extname(fileURLToPath(import.meta.url))}`, import.meta.url))

export interface ReadyLine {
  member: number
  private: string[]
  privatePeerId: string
  public: string[]
  rpcPort?: number
  metricsPort?: number
  statusPort?: number
}

export interface LogLine {
  event: string
  level: string
  [key: string]: unknown
}

export class MemberProcess {
  readonly index: number
  readonly args: string[]
  readonly logPath: string
  ready?: ReadyLine
  onLog?: (line: LogLine) => void
  #child?: ChildProcess
  #log?: WriteStream

  /** the program run as `<entry> node <args>`: the atelier CLI unless a test runs a faulty member */
  readonly entry: string

  constructor (index: number, args: string[], logPath: string, entry = CLI_ENTRY) {
    this.index = index
    this.args = args
    this.logPath = logPath
    this.entry = entry
  }

  get running (): boolean {
    return this.#child != null && this.#child.exitCode == null && this.#child.signalCode == null
  }

  get pid (): number | undefined {
    return this.#child?.pid
  }

  /** Starts the process and resolves once it prints its ready line. */
  async start (timeoutMs = 60_000): Promise<ReadyLine> {
    this.#log = createWriteStream(this.logPath, { flags: 'a' })
    const child = spawn(process.execPath, [...MEMBER_NODE_FLAGS, this.entry, 'node', ...this.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...MEMBER_NODE_ENV } })
    this.#child = child
    createInterface({ input: child.stderr }).on('line', line => {
      this.#log?.write(line + '\n')
      try {
        this.onLog?.(JSON.parse(line) as LogLine)
      } catch {
        // not a log line (a crash trace): kept in the file only
      }
    })
    return new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill('SIGKILL')
        reject(new Error(`member ${this.index} not ready within ${timeoutMs} ms; see ${this.logPath}`))
      }, timeoutMs)
      createInterface({ input: child.stdout }).on('line', line => {
        try {
          const msg = JSON.parse(line)
          if (msg.event === 'ready') {
            clearTimeout(timer)
            this.ready = msg as ReadyLine
            resolve(this.ready)
          }
        } catch {
          // stdout carries only the ready line; anything else is ignored
        }
      })
      child.once('exit', code => {
        clearTimeout(timer)
        reject(new Error(`member ${this.index} exited with ${code} before it was ready; see ${this.logPath}`))
      })
    })
  }

  kill (signal: NodeJS.Signals = 'SIGTERM'): void {
    this.#child?.kill(signal)
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop (graceMs = 10_000): Promise<void> {
    const child = this.#child
    if (child == null || !this.running) {
      this.#log?.end()
      return
    }
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
    this.#log?.end()
  }
}
