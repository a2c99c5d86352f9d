#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=50
import { useNativeSszHasher } from '../proto/index.ts'
import { main } from './program.ts'

await useNativeSszHasher()
process.exitCode = await main(process.argv.slice(2))
