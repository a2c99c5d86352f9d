/**
 * Conformance: every Ethereum Foundation Osaka blockchain-test fixture in ../shared/vectors/eest runs
 * through atelier's own block path (`atelier blocktest`: proven parent state over loopback JSON-RPC,
 * the block's transactions in its order) and every header field, block hash and post-state root is
 * the fixture's; every block the fixture marks invalid is refused.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'aegir/chai'
import { main } from '../src/cli/index.ts'
import { runBlocktest } from '../src/node/index.ts'

const ROOT = fileURLToPath(new URL('../../shared/vectors/eest/osaka', import.meta.url))

function fixtures (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) { return fixtures(path) }
    return name.endsWith('.json') ? [path] : []
  })
}

describe('conformance: Ethereum Foundation blockchain tests (Osaka)', function () {
  this.timeout(300_000)

  it('finds the shared fixtures', () => {
    expect(existsSync(ROOT), `${ROOT} (the shared/ folder beside the checkout)`).to.equal(true)
    expect(fixtures(ROOT)).to.have.length.at.least(9)
  })

  for (const file of existsSync(ROOT) ? fixtures(ROOT) : []) {
    it(file.slice(ROOT.length + 1), async () => {
      const results = await runBlocktest(file)
      expect(results.length).to.be.at.least(1)
      for (const r of results) {
        expect(r.status, `${r.id}: ${r.detail}`).to.equal('passed')
      }
    })
  }

  it('`atelier blocktest` exits non-zero when a fixture fails (a block hash changed)', async () => {
    const { mkdtemp, readFile, rm, writeFile } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const dir = await mkdtemp(join(tmpdir(), 'atelier-blocktest-'))
    try {
      const file = fixtures(ROOT).find(f => f.includes('test_clz_gas_cost')) as string
      const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, { blocks: Array<{ blockHeader: { hash: string } }>, lastblockhash: string }>
      for (const c of Object.values(json)) {
        c.blocks[0].blockHeader.hash = `0x${'ab'.repeat(32)}`
      }
      const broken = join(dir, 'broken.json')
      await writeFile(broken, JSON.stringify(json))
      expect(await main(['blocktest', file])).to.equal(0)
      expect(await main(['blocktest', broken])).to.equal(1)
    } finally {
      process.exitCode = undefined
      await rm(dir, { recursive: true, force: true })
    }
  })
})
