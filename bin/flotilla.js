#!/usr/bin/env node
// The installed entry point: the CLI, compiled or from its sources (see ./entry.js).
import { runEntry } from './entry.js'

await runEntry('bin')
