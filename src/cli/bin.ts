#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --heap-growing-percent=30
import { useNativeSszHasher } from '../proto/index.ts'
import { main } from './program.ts'

await useNativeSszHasher()
process.exitCode = await main(process.argv.slice(2))
