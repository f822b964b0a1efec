/** docker top's text layout (Go's tabwriter: minwidth 20, padding 3, spaces), pure. */
import { describe, expect, it } from 'vitest';
import { formatDockerTop } from '../../../src/cli/top.js';

describe('formatDockerTop', () => {
  it('gives every column but the last at least 20 characters', () => {
    const text = formatDockerTop({ Titles: ['UID', 'PID', 'CMD'], Processes: [['root', '42', 'sleep 300']] });
    expect(text).toBe(`UID${' '.repeat(17)}PID${' '.repeat(17)}CMD\nroot${' '.repeat(16)}42${' '.repeat(18)}sleep 300\n`);
  });

  it('widens a column to its widest cell plus 3, keeps the last cell whole, pads before an empty last cell', () => {
    const text = formatDockerTop({ Titles: ['A', 'B'], Processes: [['x'.repeat(25), 'cmd with  spaces'], ['y', '']] });
    expect(text).toBe(`A${' '.repeat(27)}B\n${'x'.repeat(25)}   cmd with  spaces\ny${' '.repeat(27)}\n`);
  });

  it('measures cells in characters, as Go counts runes', () => {
    const text = formatDockerTop({ Titles: ['USER', 'CMD'], Processes: [['é'.repeat(19), 'x']] });
    expect(text.split('\n')[1]).toBe(`${'é'.repeat(19)}${' '.repeat(3)}x`);
  });

  it('prints only the titles when there are no processes', () => {
    expect(formatDockerTop({ Titles: ['PID', 'CMD'], Processes: [] })).toBe(`PID${' '.repeat(17)}CMD\n`);
  });
});
