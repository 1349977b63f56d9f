/** Columns and rows for `count` tiles: near-square on wide screens, one or two columns on a phone. */
export function gridShape(count: number): { cols: number; rows: number; narrowCols: number; narrowRows: number } {
  const n = Math.max(1, count);
  const cols = Math.ceil(Math.sqrt(n));
  const narrowCols = n <= 2 ? 1 : 2;
  return { cols, rows: Math.ceil(n / cols), narrowCols, narrowRows: Math.ceil(n / narrowCols) };
}
