// Small statistics and table helpers shared by the benchmarks.

/** Nearest-rank percentile of an ascending-sorted array (q in 0..1). */
export function percentile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export function median(values) {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[middle] : (finite[middle - 1] + finite[middle]) / 2;
}

/** Fixed decimals, or '–' for NaN/undefined. */
export function fmt(value, decimals = 1) {
  if (value === undefined || value === null || !Number.isFinite(value)) return '–';
  return value.toFixed(decimals);
}

/** Thousands with a thin separator: 12,345. */
export function int(value) {
  if (value === undefined || value === null || !Number.isFinite(value)) return '–';
  return Math.round(value).toLocaleString('en-US');
}

/** A Markdown table (also readable on a terminal). */
export function table(headers, rows) {
  const cells = [headers, ...rows].map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join(
    '\n',
  );
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
