/**
 * What a container changed, read from its own overlay layer (the upper dir),
 * as `docker diff` prints it: A (added), C (changed), D (deleted). A path is C
 * when the image's layers have it, A when not; overlay marks deletions with a
 * whiteout (char 0:0) and a directory replaced whole as opaque.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { native } from '../native/index.js';

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** trusted.overlay.opaque as root's overlay writes it; user.overlay.opaque from a rootless one (userxattr). */
function isOpaque(path: string): boolean {
  return ['trusted.overlay.opaque', 'user.overlay.opaque'].some((name) => native.lgetxattr(path, name)?.toString() === 'y');
}

function lstat(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Whether the image (layers top first) has `rel`, whiteouts and opaque directories considered. */
export function imageHas(lowers: string[], rel: string): boolean {
  const parts = rel.split('/');
  for (const lower of lowers) {
    // A whiteout or an opaque directory on the way hides what lies beneath.
    let hidden = false;
    for (let i = 1; i <= parts.length; i++) {
      const st = lstat(join(lower, ...parts.slice(0, i)));
      if (st === undefined) break;
      if (isWhiteout(st)) return false;
      if (i === parts.length) return true;
      if (!st.isDirectory()) return false;
      if (isOpaque(join(lower, ...parts.slice(0, i)))) hidden = true;
    }
    if (hidden) return false;
  }
  return false;
}

export function layerChanges(upper: string, lowers: string[]): Change[] {
  const changes: Change[] = [];
  const walk = (rel: string, belowHidden: boolean): void => {
    for (const name of readdirSync(join(upper, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(upper, path));
      if (isWhiteout(st)) {
        changes.push({ kind: 'D', path: `/${path}` });
        continue;
      }
      const existed = !belowHidden && imageHas(lowers, path);
      changes.push({ kind: existed ? 'C' : 'A', path: `/${path}` });
      if (st.isDirectory()) walk(path, belowHidden || !existed || isOpaque(join(upper, path)));
    }
  };
  walk('', false);
  return changes;
}
