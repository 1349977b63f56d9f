// Preloaded into a server child (`node --expose-gc --import <this> server.js`) started with an
// IPC channel: on {type:'mem-probe'} it runs full GCs and answers with process.memoryUsage().
// It does not keep the process alive and changes nothing else.
if (typeof process.send === 'function') {
  process.on('message', async (message) => {
    if (message?.type !== 'mem-probe') return;
    const gc = globalThis.gc;
    if (typeof gc === 'function') {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    process.send({ type: 'mem-probe', id: message.id, gc: typeof gc === 'function', usage: process.memoryUsage() });
  });
  process.channel?.unref();
}
