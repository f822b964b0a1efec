#!/usr/bin/env node
/**
 * husk's command line with every verb (dist/cli-bundle.cjs; src/cli/main.ts is the CLI).
 */
// First: it records the fds husk was given before husk opens any of its own (--preserve-fds).
import './runtime/inherited-fds.js';
import { runProgram } from './cli/main.js';
import { verbs } from './cli/registry.js';

export const { runCli, verbNames } = runProgram(verbs);
