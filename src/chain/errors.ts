export type RpcErrorCode = 'rpc-unreachable' | 'rpc-timeout' | 'rpc-bad-response' | 'rpc-error'

/** A chain-RPC failure; `code` says whether to retry (unreachable, timeout) or to look at the node. */
export class RpcError extends Error {
  readonly code: RpcErrorCode
  readonly method: string

  constructor (code: RpcErrorCode, method: string, message: string, options?: ErrorOptions) {
    super(`${method}: ${message}`, options)
    this.name = 'RpcError'
    this.code = code
    this.method = method
  }
}
