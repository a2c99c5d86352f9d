/**
 * Where a member's quotes come from: the Linux configfs-tsm interface inside a real TD, or the
 * software test TD for tests and local testnets. Both hand back the collateral that goes with it.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import dcap from '@phala/dcap-qvl'
import PQueue from 'p-queue'
import { collateralNextUpdate, parseCollateral } from './collateral.ts'
import { CodedError } from './errors.ts'
import { QuoteError } from './quote-errors.ts'
import type { Collateral } from './collateral.ts'

export interface QuoteWithCollateral {
  quote: Uint8Array
  collateral: Collateral
}

export interface QuoteProvider {
  readonly kind: string
  /** A quote whose report_data is exactly `reportData` (64 bytes). */
  getQuote(reportData: Uint8Array): Promise<QuoteWithCollateral>
}

export class QuoteProviderError extends CodedError {}

export interface ConfigfsTsmOptions {
  /** default /sys/kernel/config/tsm/report */
  root?: string
  /** a collateral JSON file (refreshed from disk once it is past its next update) */
  collateralFile?: string
  /** a PCCS base URL; used only when configured, never by default */
  pccsUrl?: string
  /** ms for one quote; the driver's own limit is 30 s */
  timeoutMs?: number
}

/**
 * configfs-tsm: mkdir an entry, check `provider` is tdx_guest, note `generation`, write exactly 64
 * bytes to `inblob`, read `outblob`, check `generation` advanced by exactly one (else another writer
 * raced us), rmdir. The driver serves one request at a time (~1 s each), so requests are serialized.
 */
export class ConfigfsTsmProvider implements QuoteProvider {
  readonly kind = 'configfs'
  readonly #root: string
  readonly #options: ConfigfsTsmOptions
  /** one request at a time, in call order */
  readonly #serial = new PQueue({ concurrency: 1 })
  #collateral: { value: Collateral, until: number } | undefined

  constructor (options: ConfigfsTsmOptions = {}) {
    if (options.collateralFile == null && options.pccsUrl == null) {
      throw new QuoteProviderError('no-collateral-source', 'configfs quote provider needs a collateral file or a PCCS URL')
    }
    this.#root = options.root ?? '/sys/kernel/config/tsm/report'
    this.#options = options
  }

  async getQuote (reportData: Uint8Array): Promise<QuoteWithCollateral> {
    if (reportData.length !== 64) {
      throw new RangeError(`report_data is 64 bytes, got ${reportData.length}`)
    }
    const quote = await this.#serial.add(async () => this.#generate(reportData))
    return { quote, collateral: await this.#collateralFor(quote) }
  }

  async #generate (reportData: Uint8Array): Promise<Uint8Array> {
    const deadline = Date.now() + (this.#options.timeoutMs ?? 30_000)
    const dir = join(this.#root, `atelier-${process.pid}-${randomBytes(6).toString('hex')}`)
    try {
      await mkdir(dir)
    } catch (err) {
      throw new QuoteProviderError('tsm-unavailable', `cannot create ${dir}: ${(err as Error).message} (is this a TD with configfs-tsm, running as root?)`, { cause: err })
    }
    try {
      const provider = (await this.#readAttribute(dir, 'provider', deadline)).toString().trim()
      if (provider !== 'tdx_guest') {
        throw new QuoteProviderError('tsm-provider', `configfs-tsm provider is "${provider}", not tdx_guest`)
      }
      const generation = Number((await this.#readAttribute(dir, 'generation', deadline)).toString().trim())
      await writeFile(join(dir, 'inblob'), reportData)
      for (;;) {
        const quote = await readFile(join(dir, 'outblob'))
        const now = Number((await readFile(join(dir, 'generation'))).toString().trim())
        if (now > generation + 1) {
          throw new QuoteProviderError('tsm-race', `generation moved from ${generation} to ${now}: another writer used ${dir}`)
        }
        if (now === generation + 1 && quote.length > 0) {
          return new Uint8Array(quote)
        }
        if (Date.now() > deadline) {
          throw new QuoteProviderError('tsm-timeout', `no quote from ${dir} in time`)
        }
        await sleep(10)
      }
    } finally {
      await rmdir(dir).catch(() => {})
    }
  }

  /** configfs creates an entry's attributes with the directory; waiting covers slower filesystems. */
  async #readAttribute (dir: string, name: string, deadline: number): Promise<Buffer> {
    for (;;) {
      try {
        return await readFile(join(dir, name))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || Date.now() > deadline) {
          throw new QuoteProviderError('tsm-unavailable', `cannot read ${join(dir, name)}: ${(err as Error).message}`, { cause: err })
        }
        await sleep(5)
      }
    }
  }

  async #collateralFor (quote: Uint8Array): Promise<Collateral> {
    const now = Date.now() / 1000
    if (this.#collateral != null && now < this.#collateral.until) {
      return this.#collateral.value
    }
    let value: Collateral
    if (this.#options.collateralFile != null) {
      try {
        value = parseCollateral(JSON.parse(await readFile(this.#options.collateralFile, 'utf8')))
      } catch (err) {
        throw new QuoteProviderError('collateral-unavailable', `collateral file ${this.#options.collateralFile}: ${(err as Error).message}`, { cause: err })
      }
    } else {
      try {
        value = parseCollateral(await dcap.getCollateral(this.#options.pccsUrl as string, Buffer.from(quote)))
      } catch (err) {
        throw new QuoteProviderError('collateral-unavailable', `PCCS ${String(this.#options.pccsUrl)}: ${(err as Error).message}`, { cause: err })
      }
    }
    let until: number
    try {
      until = collateralNextUpdate(value)
    } catch (err) {
      throw err instanceof QuoteError ? new QuoteProviderError('collateral-unavailable', err.message, { cause: err }) : err
    }
    this.#collateral = { value, until }
    return value
  }
}
