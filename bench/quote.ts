/** Section `quote`: DCAP verification cold and from the verdict cache, and test-TD quote generation. */
import { TdxQuoteVerifier } from '../src/enclave/index.ts'
import { TestTd } from '../src/testing/index.ts'
import { medianMs, round, table } from './harness.ts'
import type { BenchSection } from './harness.ts'

export async function quoteBench (): Promise<BenchSection> {
  const td = await TestTd.create()
  const mrTd = new Uint8Array(48).fill(0xa1)
  const now = Math.floor(Date.now() / 1000)
  let n = 0
  // a fresh report_data every time: a new quote, so every verification is a cache miss
  const quotes = await Promise.all(Array.from({ length: 40 }, async () => td.quote(new Uint8Array(64).fill(n++ % 256), { mrTd })))
  let i = 0
  // cold: a verifier that has never seen this platform (full DCAP: chains, collateral, CRLs, QE report)
  const verifyColdMs = await medianMs(async () => new TdxQuoteVerifier({ trustedRootDer: td.rootDer }).verify(quotes[i++ % quotes.length], td.collateral, now), 30, 5)
  // cached: a new quote (new report_data, as every handshake has) from a platform already verified
  const cached = new TdxQuoteVerifier({ trustedRootDer: td.rootDer })
  await cached.verify(quotes[0], td.collateral, now)
  const verifyCachedMs = await medianMs(async () => cached.verify(quotes[i++ % quotes.length], td.collateral, now), 200)
  const generateMs = await medianMs(async () => td.quote(new Uint8Array(64), { mrTd }), 50)
  const json = { verifyColdMs: round(verifyColdMs), verifyCachedMs: round(verifyCachedMs, 3), generateMs: round(generateMs) }
  return {
    json,
    markdown: table(['measure', 'median ms'], [
      ['verify, cold (DCAP + CRL checks)', json.verifyColdMs],
      ['verify a new quote of a cached platform (signature + body checks)', json.verifyCachedMs],
      ['test-TD quote generation', json.generateMs]
    ]) + `\n\nCache speed-up: ${round(verifyColdMs / verifyCachedMs, 1)}× in the same run.`
  }
}
