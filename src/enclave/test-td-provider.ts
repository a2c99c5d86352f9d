/** Quotes from the software test TD (tests and local testnets only; never admitted under Intel's root). */
import type { QuoteProvider, QuoteWithCollateral } from './quote-provider.ts'
import type { TdMeasurements, TestTd } from './test-td.ts'

/** Quotes from the software test TD, for one fixed set of measurements. */
export class TestTdProvider implements QuoteProvider {
  readonly kind = 'test-td'
  readonly td: TestTd
  readonly measurements: TdMeasurements

  constructor (td: TestTd, measurements: TdMeasurements) {
    this.td = td
    this.measurements = measurements
  }

  async getQuote (reportData: Uint8Array): Promise<QuoteWithCollateral> {
    return { quote: await this.td.quote(reportData, this.measurements), collateral: this.td.collateral }
  }
}
