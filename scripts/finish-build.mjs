#!/usr/bin/env node
// After tsc: make the CLI entry executable (npm links it as `husk`).
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);
