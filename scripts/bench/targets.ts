/**
 * The targets of issue 15 ("the CLI at the Node floor") that section (0) does not check (its
 * own table has the per-verb ones): the API's whole container, the CLI's peak RSS, the engines.
 * A target whose rows were not measured in this run (--only, a runtime or engine missing)
 * says so instead of passing.
 */

/**
 * The CLI's peak RSS (largest process of `husk run`) before issue 15's work: main at 66c62dd, this
 * bench's run section on 2026-12-01 (53.3 to 54.3 MB over 7 runs). The run of 2026-11-22 in
 * BENCHMARKS.md's history had 49.1 MB, with less code.
 */
export const RSS_BEFORE_MB = 53.4;

export interface Target {
  label: string;
  measured: string;
  limit: string;
  /** undefined: not measured (or a line that only explains the one above). */
  met: boolean | undefined;
}

/** `median(key)` is NaN for a key without samples. */
export function issue15Targets(median: (key: string) => number): Target[] {
  const rows: Target[] = [];
  const ratio = (a: string, b: string): number => median(a) / median(b);
  const fmt = (v: number, unit = '×'): string => (Number.isNaN(v) ? '–' : `${v.toFixed(2)}${unit}`);
  const at = (label: string, value: number, limit: number, unit = '×'): void => {
    rows.push({ label, measured: fmt(value, unit === '×' ? '×' : ` ${unit}`), limit: `${limit}${unit === '×' ? '×' : ` ${unit}`}`, met: Number.isNaN(value) ? undefined : value <= limit });
  };
  at('API whole container (create, start, wait, delete) ≤ 0.8× `crun run`', ratio('api.total.husk', 'api.total.crun'), 0.8);
  at(`CLI peak RSS (\`husk run\`) ≤ before issue 15 (${RSS_BEFORE_MB} MB)`, median('run.rss.husk'), RSS_BEFORE_MB, 'MB');
  at('`podman run --rm IMAGE true` ≤ 1.25× with runc', ratio('engines.podman.husk', 'engines.podman.runc'), 1.25);
  at('`docker run --rm IMAGE true` ≤ 1.25× with runc', ratio('engines.docker.husk', 'engines.docker.runc'), 1.25);
  at('`ctr run --rm IMAGE ID true` ≤ 1.8× with runc', ratio('engines.ctr.husk', 'engines.ctr.runc'), 1.8);
  return rows;
}

export function targetsTable(rows: Target[]): string[] {
  const lines = ['| target | measured | limit | met |', '|---|---|---|---|'];
  for (const row of rows) lines.push(`| ${row.label} | ${row.measured} | ${row.limit} | ${row.met === undefined ? 'not measured' : row.met ? 'yes' : '**no**'} |`);
  return lines;
}

/** Markers of the part of a markdown file that `--write FILE` replaces with the run's report. */
export const BEGIN_MARK = '<!-- bench:begin (npm run bench -- --write BENCHMARKS.md replaces what is between these lines) -->';
export const END_MARK = '<!-- bench:end -->';

/** `text` with the part between the markers replaced by `report`; throws when the markers are missing. */
export function spliceReport(text: string, report: string, file: string): string {
  const begin = text.indexOf(BEGIN_MARK);
  const end = text.indexOf(END_MARK);
  if (begin === -1 || end === -1 || end < begin) throw new Error(`${file}: no "${BEGIN_MARK}" ... "${END_MARK}" section to replace`);
  return `${text.slice(0, begin + BEGIN_MARK.length)}\n\n${report.trim()}\n\n${text.slice(end)}`;
}
