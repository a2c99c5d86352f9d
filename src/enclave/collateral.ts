/**
 * Quote collateral (Intel PCS / PCCS shape, as `@phala/dcap-qvl` takes it) and the dates that bound
 * how long a verdict over it may be trusted.
 */
import { X509Certificate, X509Crl } from '@peculiar/x509'
import { z } from 'zod'
import { fromHex } from '../proto/index.ts'
import { QuoteError } from './quote-errors.ts'

const bytesField = z.union([z.string().regex(/^([0-9a-fA-F]{2})*$/, 'expected hex'), z.array(z.int().min(0).max(255))])

export const CollateralSchema = z.object({
  pck_crl_issuer_chain: z.string().min(1),
  root_ca_crl: bytesField,
  pck_crl: bytesField,
  tcb_info_issuer_chain: z.string().min(1),
  tcb_info: z.string().min(1),
  tcb_info_signature: bytesField,
  qe_identity_issuer_chain: z.string().min(1),
  qe_identity: z.string().min(1),
  qe_identity_signature: bytesField
})

export type Collateral = z.infer<typeof CollateralSchema>

export function parseCollateral (json: unknown): Collateral {
  const result = CollateralSchema.safeParse(json)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new QuoteError('collateral-invalid', `collateral field ${issue.path.join('.') || '(root)'}: ${issue.message}`)
  }
  return result.data
}

export function collateralBytes (field: string | number[]): Uint8Array {
  return typeof field === 'string' ? fromHex(field) : Uint8Array.from(field)
}

/** Certificates of a PEM chain, in order. */
export function pemCertificates (pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  try {
    return blocks.map(b => new X509Certificate(b))
  } catch (err) {
    throw new QuoteError('collateral-invalid', `unreadable certificate in chain: ${(err as Error).message}`)
  }
}

export function parseCrl (field: string | number[], what: string): X509Crl {
  try {
    return new X509Crl(new Uint8Array(collateralBytes(field)))
  } catch (err) {
    throw new QuoteError('collateral-invalid', `${what} is not a DER CRL: ${(err as Error).message}`)
  }
}

interface Dated { issueDate: string, nextUpdate: string, tcbEvaluationDataNumber?: number }

export function parseDatedJson (text: string, what: string): Dated {
  let obj: Dated
  try {
    obj = JSON.parse(text)
  } catch (err) {
    throw new QuoteError('collateral-invalid', `${what} is not JSON: ${(err as Error).message}`)
  }
  if (Number.isNaN(Date.parse(obj.issueDate)) || Number.isNaN(Date.parse(obj.nextUpdate))) {
    throw new QuoteError('collateral-invalid', `${what} lacks issueDate/nextUpdate`)
  }
  return obj
}

/**
 * Unix seconds until which this collateral stays current: the earliest next update of TCB info, QE
 * identity and both CRLs. A verdict over it is cached no longer.
 */
export function collateralNextUpdate (collateral: Collateral): number {
  const dates = [
    Date.parse(parseDatedJson(collateral.tcb_info, 'tcb_info').nextUpdate),
    Date.parse(parseDatedJson(collateral.qe_identity, 'qe_identity').nextUpdate)
  ]
  for (const [field, what] of [[collateral.root_ca_crl, 'root_ca_crl'], [collateral.pck_crl, 'pck_crl']] as const) {
    const next = parseCrl(field, what).nextUpdate
    if (next != null) {
      dates.push(next.getTime())
    }
  }
  return Math.floor(Math.min(...dates) / 1000)
}
