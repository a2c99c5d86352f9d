#!/usr/bin/env node
import { useNativeSszHasher } from '../proto/index.ts'
import { main } from './program.ts'

await useNativeSszHasher()
process.exitCode = await main(process.argv.slice(2))
