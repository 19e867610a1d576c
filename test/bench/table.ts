export interface Row {
  measure: string;
  ours: string;
  peer: string;
  /** ours / peer where both are numbers; `-` otherwise. */
  ratio: string;
  command: string;
}

const COLUMNS: (keyof Row)[] = ['measure', 'ours', 'peer', 'ratio'];

/** The one table, in Markdown, then how each row was measured (command lines), by row number. */
export function formatTable(rows: Row[]): string {
  const header: Record<keyof Row, string> = {
    measure: 'measure',
    ours: 'pulseboard',
    peer: 'express-status-monitor',
    ratio: 'ratio',
    command: '',
  };
  const numbered = rows.map((row, i) => ({ ...row, measure: `${i + 1}. ${row.measure}` }));
  const widths = COLUMNS.map((key) => Math.max(header[key].length, ...numbered.map((row) => row[key].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |`;
  const lines = [line(COLUMNS.map((key) => header[key])), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of numbered) lines.push(line(COLUMNS.map((key) => row[key])));
  lines.push('', 'How each row was measured:');
  for (const command of new Set(rows.map((row) => row.command))) {
    const numbers = rows.flatMap((row, i) => (row.command === command ? [i + 1] : []));
    lines.push(`  rows ${numbers.join(', ')}: ${command}`);
  }
  return lines.join('\n');
}

export const ratio = (ours: number, peer: number): string =>
  Number.isFinite(ours) && Number.isFinite(peer) && peer !== 0 ? (ours / peer).toFixed(2) : '-';
