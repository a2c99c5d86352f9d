import { readFile } from 'node:fs/promises'
import { ConfigError, parseConfig } from '../config/index.ts'
import type { Config } from '../config/index.ts'

/** Reads and validates a JSON config file; every failure is a `ConfigError` naming the file. */
export async function loadConfigFile (path: string): Promise<Config> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError([{ field: '(file)', message: `cannot read: ${(err as Error).message}` }], path)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ConfigError([{ field: '(file)', message: `not valid JSON: ${(err as Error).message}` }], path)
  }
  return parseConfig(json, path)
}
