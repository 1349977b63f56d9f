import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('SerialQueue', () => {
  it('runs one task at a time, in push order, even when earlier tasks are slower', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const task = (name: string, ms: number) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([queue.push(task('a', 20)), queue.push(task('b', 0)), queue.push(task('c', 5))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(maxRunning).toBe(1);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('a failing task rejects its own promise and the next task still runs', async () => {
    const queue = new SerialQueue();
    const failed = queue.push(async () => {
      throw new Error('bad step');
    });
    const next = queue.push(async () => 'ran');
    await expect(failed).rejects.toThrow('bad step');
    await expect(next).resolves.toBe('ran');
    expect(queue.size).toBe(0);
  });

  it('close() rejects tasks that have not started with code closed, and lets the running one finish', async () => {
    const queue = new SerialQueue();
    let finished = false;
    const running = queue.push(async () => {
      await tick(10);
      finished = true;
    });
    const waiting = queue.push(async () => 'should not run');
    await tick(1);
    queue.close();
    await expect(waiting).rejects.toMatchObject({ code: 'closed' });
    await running;
    expect(finished).toBe(true);
    await expect(queue.push(async () => 1)).rejects.toMatchObject({ code: 'closed' });
  });
});
