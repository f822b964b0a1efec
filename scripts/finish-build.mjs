#!/usr/bin/env node
// After the bundle: make the CLI entry executable (npm links it as `husk`).
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli.cjs', import.meta.url), 0o755); // dist/cli.js links to it
