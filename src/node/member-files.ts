/** What `atelier node` reads from disk: keys, operator tickets, and the quote provider's inputs. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigfsTsmProvider } from '../enclave/index.ts'
import { TestTd, TestTdProvider } from '../enclave/testing.ts'
import { fromHex } from '../proto/index.ts'
import type { Config } from '../config/index.ts'
import type { QuoteProvider } from '../enclave/index.ts'
import type { TestTdExport } from '../enclave/testing.ts'

export interface MemberTickets {
  private: string
  public: string
}

export async function readTickets (path: string): Promise<MemberTickets> {
  let json: unknown
  try {
    json = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new Error(`ticket file ${path}: ${(err as Error).message} (expected { "private": "<jwt>", "public": "<jwt>" }, one operator ticket per plane peer id)`)
  }
  const t = json as Partial<MemberTickets>
  if (typeof t?.private !== 'string' || typeof t?.public !== 'string') {
    throw new Error(`ticket file ${path}: expected { "private": "<jwt>", "public": "<jwt>" }`)
  }
  return { private: t.private, public: t.public }
}

export const defaultTicketPath = (keysDir: string): string => join(keysDir, 'tickets.json')

export interface QuoteProviderOptions {
  kind: 'configfs' | 'test-td'
  /** test-td: the exported test TD (its PKI); the testnet writes one */
  testTd?: string
  /** test-td: the MR_TD this TD claims (default: the config's first allowed MR_TD) */
  mrtd?: string
  /** configfs: collateral file or PCCS URL */
  collateral?: string
  pccsUrl?: string
}

export async function quoteProviderFrom (o: QuoteProviderOptions, config: Config): Promise<QuoteProvider> {
  if (o.kind === 'configfs') {
    return new ConfigfsTsmProvider({ collateralFile: o.collateral, pccsUrl: o.pccsUrl })
  }
  if (o.testTd == null) {
    throw new Error('--quote-provider test-td needs --test-td FILE (the exported test TD; `atelier testnet --out DIR` writes one)')
  }
  const data = JSON.parse(await readFile(o.testTd, 'utf8')) as TestTdExport
  return new TestTdProvider(await TestTd.load(data), { mrTd: o.mrtd != null ? fromHex(o.mrtd) : config.mrtdAcl[0] })
}
