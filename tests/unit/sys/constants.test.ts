/** The kernel constants planning uses (src/sys/constants.ts) are the addon's, from the C headers, both ways. */
import { describe, expect, it } from 'vitest';
import { native } from '../../../src/native/index.js';
import { linuxConstants } from '../../../src/sys/constants.js';

describe('linuxConstants', () => {
  it('holds exactly the constants the addon exports, with the same values', () => {
    expect({ ...linuxConstants }).toEqual({ ...native.constants });
  });
});
