/** vitest's global setup: build what the tests need and `npm install` does not (husk-testinit). */
import { ensureTestinit } from './testinit.js';

export default function setup(): void {
  ensureTestinit();
}
