/**
 * Follows the pinned chain's head by polling and reports each new head as a slot boundary. A gap
 * (several blocks between polls) reports only the newest head: a slot whose parent is already buried
 * cannot be built any more.
 */
import { RpcError } from './errors.ts'
import type { ChainRpc } from './rpc-client.ts'
import type { RpcBlock, SlotBoundary } from './types.ts'

export interface HeadWatcherOptions {
  intervalMs: number
  onSlot(boundary: SlotBoundary): void
  onError?(err: RpcError): void
}

export function slotBoundaryOf (block: RpcBlock): SlotBoundary {
  const parentNumber = Number(BigInt(block.number))
  return { slot: parentNumber + 1, parentHash: block.hash, parentNumber, timestamp: Number(BigInt(block.timestamp)), parent: block }
}

export class HeadWatcher {
  readonly #rpc: ChainRpc
  readonly #options: HeadWatcherOptions
  #timer: NodeJS.Timeout | undefined
  #lastHash: string | undefined
  #running = false
  #polling: Promise<void> | undefined
  #inFlight = false

  constructor (rpc: ChainRpc, options: HeadWatcherOptions) {
    this.#rpc = rpc
    this.#options = options
  }

  start (): void {
    if (this.#running) {
      return
    }
    this.#running = true
    this.#schedule(0)
  }

  async stop (): Promise<void> {
    this.#running = false
    clearTimeout(this.#timer)
    await this.#polling
  }

  /** Polls now rather than at the next interval (unless a poll is under way). */
  pollSoon (): void {
    if (!this.#running || this.#inFlight) { return }
    clearTimeout(this.#timer)
    this.#schedule(0)
  }

  /** One poll: reports a boundary when the head changed. Exposed for tests and for a first sync. */
  async poll (): Promise<SlotBoundary | undefined> {
    const head = await this.#rpc.call<RpcBlock | null>('eth_getBlockByNumber', ['latest', false])
    if (head == null || typeof head.hash !== 'string' || typeof head.number !== 'string') {
      throw new RpcError('rpc-bad-response', 'eth_getBlockByNumber', 'latest block missing or malformed')
    }
    if (head.hash === this.#lastHash) {
      return undefined
    }
    this.#lastHash = head.hash
    const boundary = slotBoundaryOf(head)
    this.#options.onSlot(boundary)
    return boundary
  }

  #schedule (delay: number): void {
    this.#timer = setTimeout(() => {
      this.#inFlight = true
      this.#polling = this.poll().then(() => {}, (err: unknown) => {
        this.#options.onError?.(err instanceof RpcError ? err : new RpcError('rpc-bad-response', 'poll', String(err)))
      }).finally(() => {
        this.#inFlight = false
        if (this.#running) {
          this.#schedule(this.#options.intervalMs)
        }
      })
    }, delay)
  }
}
