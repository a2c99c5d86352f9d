/**
 * TDX quote v4/v5 parser (Intel's sgx_quote_4.h / sgx_quote_5.h). Parses by the lengths inside the
 * quote, never the buffer size: real quotes carry trailing padding.
 */
import { QuoteError } from './quote-errors.ts'

export const TEE_TYPE_TDX = 0x81
export const INTEL_QE_VENDOR_ID = Uint8Array.from([0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07])
export const HEADER_BYTES = 48
export const TD10_BODY_BYTES = 584
export const TD15_BODY_BYTES = 648
export const QE_REPORT_BYTES = 384
/** td_attributes bit 0 */
export const TD_ATTRIBUTE_DEBUG = 0x01

export interface TdReport {
  teeTcbSvn: Uint8Array
  mrSeam: Uint8Array
  mrSignerSeam: Uint8Array
  seamAttributes: Uint8Array
  tdAttributes: Uint8Array
  xfam: Uint8Array
  mrTd: Uint8Array
  mrConfigId: Uint8Array
  mrOwner: Uint8Array
  mrOwnerConfig: Uint8Array
  rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
  reportData: Uint8Array
  /** TD 1.5 bodies only */
  teeTcbSvn2?: Uint8Array
  mrServiceTd?: Uint8Array
}

export interface ParsedQuote {
  version: 4 | 5
  attestationKeyType: number
  teeType: number
  qeSvn: number
  pceSvn: number
  qeVendorId: Uint8Array
  userData: Uint8Array
  bodyType: 'td10' | 'td15'
  td: TdReport
  /** bytes [0, signedLength) are what the attestation key signed */
  signedLength: number
  signature: Uint8Array
  attestationKey: Uint8Array
  qeReport: Uint8Array
  qeReportData: Uint8Array
  qeReportSignature: Uint8Array
  qeAuthData: Uint8Array
  /** PEM chain: PCK leaf → intermediate CA → root */
  pckChainPem: string
  /** bytes the quote really uses; the rest of the buffer is padding */
  usedLength: number
}

class Reader {
  readonly bytes: Uint8Array
  readonly view: DataView
  at: number

  constructor (bytes: Uint8Array, at = 0) {
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.at = at
  }

  take (n: number, what: string): Uint8Array {
    if (this.at + n > this.bytes.length) {
      throw new QuoteError('malformed-quote', `quote truncated in ${what}: needs ${this.at + n} bytes, has ${this.bytes.length}`)
    }
    const out = this.bytes.subarray(this.at, this.at + n)
    this.at += n
    return out
  }

  u16 (what: string): number {
    const at = this.at
    this.take(2, what)
    return this.view.getUint16(at, true)
  }

  u32 (what: string): number {
    const at = this.at
    this.take(4, what)
    return this.view.getUint32(at, true)
  }
}

function parseTdBody (r: Reader, withV15: boolean): TdReport {
  const td: TdReport = {
    teeTcbSvn: r.take(16, 'tee_tcb_svn'),
    mrSeam: r.take(48, 'mr_seam'),
    mrSignerSeam: r.take(48, 'mr_signer_seam'),
    seamAttributes: r.take(8, 'seam_attributes'),
    tdAttributes: r.take(8, 'td_attributes'),
    xfam: r.take(8, 'xfam'),
    mrTd: r.take(48, 'mr_td'),
    mrConfigId: r.take(48, 'mr_config_id'),
    mrOwner: r.take(48, 'mr_owner'),
    mrOwnerConfig: r.take(48, 'mr_owner_config'),
    rtmr: [r.take(48, 'rtmr0'), r.take(48, 'rtmr1'), r.take(48, 'rtmr2'), r.take(48, 'rtmr3')],
    reportData: r.take(64, 'report_data')
  }
  if (withV15) {
    td.teeTcbSvn2 = r.take(16, 'tee_tcb_svn2')
    td.mrServiceTd = r.take(48, 'mr_servicetd')
  }
  return td
}

export function parseQuote (quote: Uint8Array): ParsedQuote {
  const r = new Reader(quote)
  const version = r.u16('version')
  if (version !== 4 && version !== 5) {
    throw new QuoteError('unsupported-quote', `quote version ${version} is not a TDX quote (4 or 5)`)
  }
  const attestationKeyType = r.u16('attestation_key_type')
  const teeType = r.u32('tee_type')
  if (teeType !== TEE_TYPE_TDX) {
    throw new QuoteError('unsupported-quote', `TEE type 0x${teeType.toString(16)} is not TDX (0x81)`)
  }
  const qeSvn = r.u16('qe_svn')
  const pceSvn = r.u16('pce_svn')
  const qeVendorId = r.take(16, 'qe_vendor_id')
  const userData = r.take(20, 'user_data')
  let bodyType: 'td10' | 'td15' = 'td10'
  if (version === 5) {
    const type = r.u16('body_type')
    const size = r.u32('body_size')
    if (type === 2 && size === TD10_BODY_BYTES) {
      bodyType = 'td10'
    } else if (type === 3 && size === TD15_BODY_BYTES) {
      bodyType = 'td15'
    } else {
      throw new QuoteError('unsupported-quote', `v5 body type ${type} of ${size} bytes is not a TD 1.0 or TD 1.5 report`)
    }
  }
  const td = parseTdBody(r, bodyType === 'td15')
  const signedLength = r.at
  const sigDataLength = r.u32('signature_data_length')
  const sigEnd = r.at + sigDataLength
  if (sigEnd > quote.length) {
    throw new QuoteError('malformed-quote', `signature data of ${sigDataLength} bytes runs past the quote's ${quote.length} bytes`)
  }
  const s = new Reader(quote.subarray(0, sigEnd), r.at)
  const signature = s.take(64, 'quote signature')
  const attestationKey = s.take(64, 'attestation key')
  const outerType = s.u16('certification_data_type')
  const outerSize = s.u32('certification_data_size')
  if (outerType !== 6) {
    throw new QuoteError('unsupported-quote', `certification data type ${outerType} (expected 6: QE report certification data)`)
  }
  if (s.at + outerSize !== sigEnd) {
    throw new QuoteError('malformed-quote', `certification data size ${outerSize} disagrees with the signature data length`)
  }
  const qeReport = s.take(QE_REPORT_BYTES, 'qe_report')
  const qeReportSignature = s.take(64, 'qe_report_signature')
  const qeAuthData = s.take(s.u16('qe_auth_data_size'), 'qe_auth_data')
  const innerType = s.u16('pck_certification_data_type')
  const innerSize = s.u32('pck_certification_data_size')
  if (innerType !== 5) {
    throw new QuoteError('unsupported-quote', `PCK certification data type ${innerType} (expected 5: PEM chain)`)
  }
  const chain = s.take(innerSize, 'pck_cert_chain')
  if (s.at !== sigEnd) {
    throw new QuoteError('malformed-quote', `${sigEnd - s.at} unexplained bytes inside the signature data`)
  }
  return {
    version,
    attestationKeyType,
    teeType,
    qeSvn,
    pceSvn,
    qeVendorId,
    userData,
    bodyType,
    td,
    signedLength,
    signature,
    attestationKey,
    qeReport,
    qeReportData: qeReport.subarray(320, 384),
    qeReportSignature,
    qeAuthData,
    pckChainPem: new TextDecoder().decode(chain).replace(/\0+$/, ''),
    usedLength: sigEnd
  }
}
