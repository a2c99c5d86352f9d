/**
 * JSON-RPC over HTTP to the one pinned endpoint (`config.chainRpc`, part of the fingerprint): no other
 * URL can be given at run time. Batches, per-request timeouts, bounded retries with backoff for
 * transport failures only (a JSON-RPC error answer is final).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { RpcError } from './errors.ts'

export interface RpcCall {
  method: string
  params: unknown[]
}

export interface ChainRpcOptions {
  timeoutMs?: number
  /** attempts per request, including the first (default 3) */
  attempts?: number
  /** first backoff in ms, doubled per retry (default 100) */
  backoffMs?: number
}

interface JsonRpcResponse {
  jsonrpc?: string
  id?: number
  result?: unknown
  error?: { code: number, message: string }
}

export class ChainRpc {
  readonly url: string
  readonly #timeoutMs: number
  readonly #attempts: number
  readonly #backoffMs: number
  #nextId = 1

  constructor (url: string, options: ChainRpcOptions = {}) {
    const parsed = new URL(url)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new RpcError('rpc-unreachable', 'connect', `chain RPC must be http(s), got ${url}`)
    }
    this.url = url
    this.#timeoutMs = options.timeoutMs ?? 10_000
    this.#attempts = Math.max(1, options.attempts ?? 3)
    this.#backoffMs = options.backoffMs ?? 100
  }

  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const [result] = await this.batch<[T]>([{ method, params }])
    return result
  }

  /** One HTTP request for all calls; results in call order. Any call's error fails the batch. */
  async batch<T extends unknown[] = unknown[]>(calls: RpcCall[]): Promise<T> {
    return (await this.batchSettled(calls)).map(r => {
      if (r instanceof RpcError) {
        throw r
      }
      return r.result
    }) as T
  }

  /** One HTTP request for all calls; each call's result, or its error, in call order. */
  async batchSettled (calls: RpcCall[]): Promise<Array<{ result: unknown } | RpcError>> {
    if (calls.length === 0) {
      return []
    }
    const first = this.#nextId
    this.#nextId += calls.length
    const body = calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params }))
    const label = calls.length === 1 ? calls[0].method : `batch of ${calls.length} (${calls[0].method}, …)`
    const responses = await this.#post(label, body)
    const byId = new Map<number, JsonRpcResponse>()
    for (const r of responses) {
      if (typeof r?.id === 'number') {
        byId.set(r.id, r)
      }
    }
    return calls.map((c, i) => {
      const r = byId.get(first + i)
      if (r == null) {
        return new RpcError('rpc-bad-response', c.method, 'no response for this request in the batch')
      }
      if (r.error != null) {
        return new RpcError('rpc-error', c.method, `node answered error ${r.error.code}: ${r.error.message}`)
      }
      if (!('result' in r)) {
        return new RpcError('rpc-bad-response', c.method, 'response has neither result nor error')
      }
      return { result: r.result }
    })
  }

  async #post (label: string, body: unknown[]): Promise<JsonRpcResponse[]> {
    let lastError: RpcError | undefined
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      if (attempt > 0) {
        await sleep(this.#backoffMs * 2 ** (attempt - 1))
      }
      let res: Response
      try {
        res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.#timeoutMs)
        })
      } catch (err) {
        const timeout = (err as Error).name === 'TimeoutError'
        lastError = new RpcError(timeout ? 'rpc-timeout' : 'rpc-unreachable', label,
          timeout ? `no answer from ${this.url} in ${this.#timeoutMs} ms` : `cannot reach ${this.url}: ${(err as Error).message}`, { cause: err })
        continue
      }
      if (res.status >= 500 || res.status === 429) {
        lastError = new RpcError('rpc-unreachable', label, `HTTP ${res.status} from ${this.url}`)
        await res.body?.cancel()
        continue
      }
      let json: unknown
      try {
        json = await res.json()
      } catch (err) {
        throw new RpcError('rpc-bad-response', label, `HTTP ${res.status}, body is not JSON`, { cause: err })
      }
      if (!Array.isArray(json)) {
        // some nodes answer a failed batch with one error object
        const single = json as JsonRpcResponse
        throw new RpcError(single?.error != null ? 'rpc-error' : 'rpc-bad-response', label,
          single?.error != null ? `node answered error ${single.error.code}: ${single.error.message}` : 'batch answered with a non-array')
      }
      return json as JsonRpcResponse[]
    }
    throw lastError ?? new RpcError('rpc-unreachable', label, 'no attempt made')
  }
}
