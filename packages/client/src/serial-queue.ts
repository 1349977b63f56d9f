import { ConveneError } from './errors.js';

/**
 * Runs async tasks one at a time, in the order they were pushed. WebRTC negotiation must not
 * interleave (createOffer, setRemoteDescription, replaceTrack…), and device switching must not
 * either; a failed task does not stop the ones after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private pending = 0;

  /** Number of tasks waiting or running. */
  get size(): number {
    return this.pending;
  }

  /** Resolves or rejects with the task's result. Rejects with ConveneError `closed` if the queue is closed before the task starts. */
  push<T>(task: () => Promise<T> | T): Promise<T> {
    if (this.closed) return Promise.reject(ConveneError.closed('queue'));
    this.pending += 1;
    const run = this.tail.then(() => {
      if (this.closed) throw ConveneError.closed('queue');
      return task();
    });
    const settle = (): void => {
      this.pending -= 1;
    };
    // The chain continues whether this task succeeded or not.
    this.tail = run.then(settle, settle);
    return run;
  }

  /** Tasks not yet started will reject with `closed`; a running task finishes on its own. */
  close(): void {
    this.closed = true;
  }
}
