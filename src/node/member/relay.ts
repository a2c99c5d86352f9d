/**
 * The relay of transactions this member took in (ingestion) to the other members, on the private
 * pool topic, so whoever leads a slot sees the same pool. Batched: a gossip message per transaction
 * would cost a signature and a validation each; a batch goes out when it is full or a few ms old.
 *
 * Owns TxRelay.
 */
export interface TxRelayOptions {
  publish(txs: Uint8Array[]): Promise<void>
  /** transactions per message at most (default 256) */
  batch?: number
  /** ms a transaction waits for others at most (default 20) */
  delayMs?: number
}

export class TxRelay {
  readonly #o: TxRelayOptions
  readonly #waiting: Uint8Array[] = []
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor (options: TxRelayOptions) {
    this.#o = options
  }

  push (txs: Uint8Array[]): void {
    if (this.#stopped || txs.length === 0) { return }
    this.#waiting.push(...txs)
    if (this.#waiting.length >= (this.#o.batch ?? 256)) {
      this.flush()
    } else {
      this.#timer ??= setTimeout(() => { this.flush() }, this.#o.delayMs ?? 20)
    }
  }

  flush (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const batch = this.#o.batch ?? 256
    while (this.#waiting.length > 0 && !this.#stopped) {
      void this.#o.publish(this.#waiting.splice(0, batch)).catch(() => {})
    }
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#waiting.length = 0
  }
}
