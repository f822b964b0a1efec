/**
 * Reading `ps` output the way moby's daemon/top_unix.go does (docker top):
 * validate the arguments, find the column boundaries from the header and the
 * body together, keep the rows whose PID is one of ours, and keep thread rows
 * (`m`: PID "-") with the process row above them.
 */
import { PsError } from './errors.js';

/** docker's container-top shape: one title per column, one cell per column per row. */
export interface PsTable {
  titles: string[];
  processes: string[][];
}

const NO_HEADER_OPTIONS = new Set([
  '--no-header',
  '--no-headers',
  '--no-heading',
  '--no-headings',
  '--noheader',
  '--noheaders',
  '--noheading',
  '--noheadings',
]);

// moby's rule: `<spec>=PID...` after whitespace is refused unless <spec> is exactly `pid`
// (ASCII whitespace only, as in moby, which splits with fieldsASCII).
const RELABEL_PID = /[ \t\n\f\r]+([^ \t\n\f\r]*)=[ \t\n\f\r]*(PID[^ \t\n\f\r]*)/g;

/**
 * Refuses what moby refuses: an `-o` that labels a column other than `pid` as `PID`
 * (e.g. `-o pid,ppid=PID`), and the options that drop the header.
 *
 * moby applies its regex to the user's argument string, whose first word is an option;
 * we join the argument array the same way but with a leading space, so a spec given as
 * the very first argument is checked too, and an option letter glued to the spec
 * (`-oppid=PID`) is not mistaken for part of the column name.
 */
export function validatePsArgs(psArgs: readonly string[]): void {
  for (const arg of psArgs) {
    if (NO_HEADER_OPTIONS.has(arg)) {
      throw new PsError(`ps option ${arg} is not allowed: the header is needed to find the PID column`, {
        reason: 'no-headers',
        psArgs: [...psArgs],
      });
    }
  }
  const joined = ' ' + psArgs.join(' ');
  for (const match of joined.matchAll(RELABEL_PID)) {
    const spec = (match[1] ?? '').replace(/^(--format=|-[oO])/, '');
    if (spec !== 'pid') {
      throw new PsError(`specifying "${match[1]}=${match[2]}" is not allowed: only the pid column may be titled PID`, {
        reason: 'relabelled-pid',
        psArgs: [...psArgs],
      });
    }
  }
}

const isAsciiSpace = (ch: string | undefined): boolean =>
  ch === ' ' || ch === '\t' || ch === '\n' || ch === '\f' || ch === '\r' || ch === '\v';

/** strings.Fields restricted to ASCII whitespace (moby's fieldsASCII). */
export function fieldsAscii(line: string): string[] {
  return line.split(/[ \t\n\f\r\v]+/).filter((f) => f.length > 0);
}

/**
 * Where each column starts. A title is not where its column starts: right-aligned
 * values stick out to the left of a short title, and a left-aligned command with
 * spaces sticks out to the right. Like moby, walk left from each title until a
 * position that is blank on every line (never past the previous title).
 */
export function columnStarts(header: string, body: readonly string[]): number[] {
  const tokens = [...header.matchAll(/[^ \t\n\f\r\v]+/g)].map((m) => ({
    start: m.index,
    end: m.index + m[0].length,
  }));
  const starts = tokens.map((t) => t.start);
  if (starts.length > 0) starts[0] = 0;
  for (let i = 1; i < tokens.length; i++) {
    const previousEnd = tokens[i - 1]!.end;
    for (let pos = tokens[i]!.start - 1; pos >= previousEnd; pos--) {
      if (body.every((line) => line.length <= pos || isAsciiSpace(line[pos]))) {
        starts[i] = pos;
        break;
      }
    }
  }
  return starts;
}

/**
 * Cuts one line at the column starts; the last column takes the rest of the line.
 * Unlike moby, a cut never falls inside a word: when a cell overflows its column
 * (procps then pushes the rest of the line right, e.g. a TIME of "12-01:02:03"),
 * the cut moves right to the end of that word instead of splitting it in two.
 */
export function splitRow(line: string, starts: readonly number[]): string[] {
  const cuts: number[] = [];
  starts.forEach((start, i) => {
    let cut = Math.max(start, cuts[i - 1] ?? 0);
    if (i > 0) {
      while (cut > 0 && cut < line.length && !isAsciiSpace(line[cut - 1]) && !isAsciiSpace(line[cut])) cut++;
    }
    cuts.push(cut);
  });
  return cuts.map((cut, i) => line.slice(cut, cuts[i + 1] ?? line.length).trim());
}

/**
 * The rows of `ps` output whose PID is in `pids`, header kept. Thread rows of `-L`
 * repeat the PID and so follow it; thread rows of `m` show "-" as PID and are kept
 * when the process row above them was kept (moby's rule, docker issue #30580).
 */
export function parsePsOutput(output: string, pids: Iterable<number>): PsTable {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const titles = fieldsAscii(header);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex === -1) {
    throw new PsError(`no PID column in ps output (header: ${JSON.stringify(header)})`, {
      reason: 'unparsable-output',
    });
  }
  const body = lines.slice(1).filter((line) => line.length > 0);
  const starts = columnStarts(header, body);
  const wanted = new Set(pids);
  const processes: string[][] = [];
  let previousKept = false;
  for (const line of body) {
    const cells = splitRow(line, starts);
    const pidCell = cells[pidIndex] ?? '';
    if (pidCell === '-') {
      if (previousKept) processes.push(cells);
      continue;
    }
    if (!/^\d+$/.test(pidCell)) {
      throw new PsError(`unexpected pid ${JSON.stringify(pidCell)} in ps output line ${JSON.stringify(line)}`, {
        reason: 'unparsable-output',
      });
    }
    previousKept = wanted.has(Number(pidCell));
    if (previousKept) processes.push(cells);
  }
  return { titles, processes };
}
