/**
 * husk's command line with only the light verbs (dist/cli-light.cjs; src/cli/light-verbs.ts):
 * what the launcher runs for them. None passes fds on, so src/runtime/inherited-fds.ts
 * (a readdir, a readlink and an fstat per open fd) is not loaded.
 */
import { lightVerbs } from './cli/light-verbs.js';
import { runProgram } from './cli/main.js';

export const { runCli, verbNames } = runProgram(lightVerbs);
