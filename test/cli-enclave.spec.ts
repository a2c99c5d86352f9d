import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'aegir/chai'
import { FileKeyStore } from '../src/enclave/index.ts'
import { blsVerifyProofOfPossession, fromHex, toHex } from '../src/proto/index.ts'
import { TestTd } from '../src/testing/index.ts'
import { runCli } from './fixtures/cli.ts'
import { INTEL_MRTD, VECTOR_PATHS } from './fixtures/tdx.ts'

describe('cli: quote verify and keygen', function () {
  this.timeout(60_000)
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-cli-enclave-'))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const verifyArgs = ['quote', 'verify', '--quote', VECTOR_PATHS.quote, '--collateral', VECTOR_PATHS.collateral]

  it('accepts the Intel vector at 1750809600 and prints its measurements', async () => {
    const r = await runCli([...verifyArgs, '--now', '1750809600'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/^accepted\nstatus: UpToDate\n/)
    expect(r.stdout).to.include(`mr_td: ${INTEL_MRTD} (not checked: no --mrtd given)`)
    expect(r.stdout).to.match(/rtmr3: [0-9a-f]{96}\n/)
    expect(r.stdout).to.match(/report_data: [0-9a-f]{128}\n/)
  })

  it('exits 1 with the reason code for a wrong --now or an MR_TD outside --mrtd', async () => {
    const late = await runCli([...verifyArgs, '--now', '1800000000'])
    expect(late.code).to.equal(1)
    expect(late.stdout).to.match(/^rejected: collateral-expired\n/)
    const acl = await runCli([...verifyArgs, '--now', '1750809600', '--mrtd', 'a1'.repeat(48)])
    expect(acl.code).to.equal(1)
    expect(acl.stdout).to.match(/^rejected: mrtd-not-allowed\n/)
    const ok = await runCli([...verifyArgs, '--now', '1750809600', '--mrtd', 'a1'.repeat(48), INTEL_MRTD])
    expect(ok.stdout).to.include('(allowed)')
  })

  it('verifies a test-TD quote only with --root', async () => {
    const td = await TestTd.create()
    await writeFile(join(dir, 'td.quote'), await td.quote(new Uint8Array(64), { mrTd: new Uint8Array(48).fill(1) }))
    await writeFile(join(dir, 'td.json'), JSON.stringify(td.collateral))
    await writeFile(join(dir, 'root.der'), td.rootDer)
    const args = ['quote', 'verify', '--quote', join(dir, 'td.quote'), '--collateral', join(dir, 'td.json')]
    expect((await runCli(args)).stdout).to.match(/^rejected: untrusted-root/)
    expect((await runCli([...args, '--root', join(dir, 'root.der')])).code).to.equal(0)
  })

  it('keygen: writes keys 0600 with a valid proof of possession; refuses to overwrite without --force', async () => {
    const out = join(dir, 'keys')
    const r = await runCli(['keygen', '--out', out])
    expect(r.code).to.equal(0)
    const printed = JSON.parse(r.stdout)
    const entry = printed.committeeEntry
    expect(blsVerifyProofOfPossession(fromHex(entry.blsPublicKey), fromHex(entry.proofOfPossession))).to.equal(true)
    expect(printed.privatePeerId).to.not.equal(printed.publicPeerId)
    for (const f of ['bls.json', 'identity.json']) {
      expect((await stat(join(out, f))).mode & 0o777, f).to.equal(0o600)
    }
    expect(r.stdout).to.not.include(JSON.parse(await readFile(join(out, 'bls.json'), 'utf8')).secretKey)
    const again = await runCli(['keygen', '--out', out])
    expect(again.code).to.not.equal(0)
    expect(again.stderr).to.match(/--force/)
    expect((await new FileKeyStore(out).load()).bls.publicKey).to.deep.equal(fromHex(entry.blsPublicKey))

    const rotated = JSON.parse((await runCli(['keygen', '--out', out, '--rotate'])).stdout)
    expect(rotated.committeeEntry.blsPublicKey).to.not.equal(entry.blsPublicKey)
    expect(rotated.privatePeerId).to.equal(printed.privatePeerId)
    const loaded = await new FileKeyStore(out).load()
    expect(toHex(loaded.bls.publicKey)).to.equal(rotated.committeeEntry.blsPublicKey)
  })
})
