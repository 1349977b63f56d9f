import { describe, expect, it } from 'vitest';
import { gridShape } from './grid';

describe('gridShape', () => {
  it.each([
    [1, 1, 1, 1, 1],
    [2, 2, 1, 1, 2],
    [3, 2, 2, 2, 2],
    [4, 2, 2, 2, 2],
    [5, 3, 2, 2, 3],
    [9, 3, 3, 2, 5],
    [10, 4, 3, 2, 5],
  ])('%i people → %i×%i wide, %i×%i narrow', (count, cols, rows, narrowCols, narrowRows) => {
    expect(gridShape(count)).toEqual({ cols, rows, narrowCols, narrowRows });
  });

  it('always has room for everyone', () => {
    for (let count = 1; count <= 50; count++) {
      const shape = gridShape(count);
      expect(shape.cols * shape.rows).toBeGreaterThanOrEqual(count);
      expect(shape.narrowCols * shape.narrowRows).toBeGreaterThanOrEqual(count);
    }
  });
});
