/**
 * The testnet's co-builder: a client plane admitted with a co-builder ticket, which sends one signed
 * hint per slot over the hint stream to a member and counts the verdicts; when its member goes away
 * it reconnects to another one at the next slot.
 *
 * Owns CobuilderDriver.
 */
import { HintSender, Plane, policyFromConfig, TicketEvidenceSource } from '../../p2p/index.ts'
import { signHint } from '../../proto/index.ts'
import type { Config } from '../../config/index.ts'
import type { Logger } from '../log.ts'
import type { PrivateKey } from '@libp2p/interface'

/** the co-builder's signing key: a fixed, public test key */
const HINT_KEY = new Uint8Array(32).fill(0x42)

export class CobuilderDriver {
  sent = 0
  accepted = 0
  readonly #plane: Plane
  readonly #config: Config
  readonly #log: Logger
  #sender?: HintSender

  private constructor (plane: Plane, config: Config, log: Logger) {
    this.#plane = plane
    this.#config = config
    this.#log = log
  }

  static async start (config: Config, identity: { key: PrivateKey, jwt: string }, log: Logger): Promise<CobuilderDriver> {
    const plane = await Plane.create({
      name: 'cobuilder',
      privateKey: identity.key,
      listen: [],
      policy: policyFromConfig(config, ['member']),
      evidence: new TicketEvidenceSource(identity.jwt),
      topics: []
    })
    return new CobuilderDriver(plane, config, log)
  }

  /** Sends a hint for `slot` holding `txs` to a member at one of `targets` (public-plane addresses). */
  async send (slot: number, txs: Uint8Array[], targets: string[]): Promise<void> {
    try {
      if (this.#sender == null) {
        const target = targets[0]
        if (target == null) { return }
        await this.#plane.connect(target)
        this.#sender = await HintSender.open(this.#plane, this.#plane.node.getPeers()[0])
      }
      const hint = signHint(HINT_KEY, slot, { txs, revertProtected: false }, this.#config.root().bytes)
      this.sent++
      const verdict = await this.#sender.send(hint)
      if (verdict.accepted) { this.accepted++ }
    } catch (err) {
      // the member went away: reconnect to another one next slot
      await this.#sender?.close()
      this.#sender = undefined
      this.#log.debug('hint-failed', { slot, message: (err as Error).message })
    }
  }

  async stop (): Promise<void> {
    await this.#sender?.close()
    await this.#plane.stop().catch(() => {})
  }
}
