import { afterEach, describe, expect, it } from 'vitest';
import { TypedEmitter } from './emitter.js';
import { captureLogs } from './test-support/logs.js';

interface Events {
  message: [text: string, count: number];
  done: [];
}

class Source extends TypedEmitter<Events> {
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    return this.safeEmit(event, ...args);
  }
}

describe('TypedEmitter', () => {
  let logs = captureLogs();
  afterEach(() => {
    logs.restore();
    logs = captureLogs();
  });

  it('calls listeners in registration order with the emitted arguments', () => {
    const source = new Source();
    const calls: string[] = [];
    source.on('message', (text, count) => calls.push(`a:${text}:${count}`));
    source.on('message', (text) => calls.push(`b:${text}`));
    expect(source.emit('message', 'hi', 2)).toBe(true);
    expect(calls).toEqual(['a:hi:2', 'b:hi']);
  });

  it('once() fires a single time, and off() removes on() and once() listeners', () => {
    const source = new Source();
    let onceCalls = 0;
    let onCalls = 0;
    const onListener = (): void => {
      onCalls++;
    };
    const removedOnce = (): void => {
      throw new Error('removed listener was called');
    };
    source.once('done', () => onceCalls++);
    source.on('done', onListener);
    source.once('done', removedOnce);
    source.off('done', removedOnce);
    source.emit('done');
    source.emit('done');
    source.off('done', onListener);
    source.emit('done');
    expect(onceCalls).toBe(1);
    expect(onCalls).toBe(2);
    expect(source.listenerCount('done')).toBe(0);
    expect(source.emit('done')).toBe(false);
  });

  it('a throwing listener is logged and the other listeners still run', () => {
    const source = new Source();
    const received: string[] = [];
    source.on('message', () => {
      throw new Error('boom');
    });
    source.on('message', (text) => received.push(text));
    expect(() => source.emit('message', 'still delivered', 1)).not.toThrow();
    expect(received).toEqual(['still delivered']);
    expect(logs.records).toHaveLength(1);
    expect(logs.records[0]).toMatchObject({ level: 'error', message: 'a listener of "message" threw' });
  });

  it('a listener removing itself or another during emit does not disturb the current emit', () => {
    const source = new Source();
    const calls: string[] = [];
    const second = (): void => {
      calls.push('second');
    };
    source.on('done', () => {
      calls.push('first');
      source.off('done', second);
    });
    source.on('done', second);
    source.emit('done');
    source.emit('done');
    expect(calls).toEqual(['first', 'second', 'first']);
  });
});
