// CPU profiling of a running server child through the V8 inspector (started with
// --inspect=127.0.0.1:0), so the profile covers exactly the load window and does not depend
// on how the server exits. Plus a plain-text summary: where the time goes.
import { readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';

function inspectorUrl(server) {
  const match = /Debugger listening on (ws:\/\/[^\s]+)/.exec(server.output());
  if (!match) throw new Error(`${server.name}: no inspector URL in its output (started with --inspect?)`);
  return match[1];
}

async function inspectorSession(server) {
  const socket = new WebSocket(inspectorUrl(server));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map();
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
    else waiter.resolve(message.result);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => socket.close() };
}

/** Runs `fn` while the server's CPU is sampled; writes the .cpuprofile to `file`; returns fn's result. */
export async function withCpuProfile(server, file, fn, samplingIntervalUs = 250) {
  const session = await inspectorSession(server);
  await session.call('Profiler.enable');
  await session.call('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await session.call('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.call('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.close();
  }
}

/**
 * Runs `fn` while the server's allocations are sampled (V8 sampling heap profiler, keeping
 * objects that were already collected too, i.e. allocation volume by call site); writes the
 * .heapprofile to `file`.
 */
export async function withHeapSampling(server, file, fn, samplingIntervalBytes = 16384) {
  const session = await inspectorSession(server);
  await session.call('HeapProfiler.enable');
  await session.call('HeapProfiler.startSampling', {
    samplingInterval: samplingIntervalBytes,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  try {
    return await fn();
  } finally {
    const { profile } = await session.call('HeapProfiler.stopSampling');
    writeFileSync(file, JSON.stringify(profile));
    session.close();
  }
}

/** Allocation volume by function (self) and by area, from a sampling heap profile. */
export function summarizeHeapProfile(file, top = 20) {
  const { head } = JSON.parse(readFileSync(file, 'utf8'));
  const bySelf = new Map();
  const byArea = new Map();
  let total = 0;
  const walk = (node) => {
    const f = node.callFrame;
    const where = f.url
      ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|packages|apps)\//, '$1/')}:${f.lineNumber + 1}`
      : '';
    const name = `${f.functionName || '(anonymous)'} ${where}`.trim();
    if (node.selfSize > 0) {
      bySelf.set(name, (bySelf.get(name) ?? 0) + node.selfSize);
      const area = category(f.url, f.functionName);
      byArea.set(area, (byArea.get(area) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(head);
  const list = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, bytes]) =>
          `  ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${(bytes / 2 ** 20).toFixed(1).padStart(7)} MB  ${name}`,
      )
      .join('\n');
  return [
    `sampled allocations: ${(total / 2 ** 20).toFixed(0)} MB (estimated)`,
    '\nby area:',
    list(byArea),
    `\nby allocating function, top ${top}:`,
    list(bySelf),
  ].join('\n');
}

function category(url, name) {
  if (!url) {
    if (name === '(garbage collector)') return 'GC';
    if (name === '(idle)') return 'idle';
    if (name === '(program)') return 'V8/native (program)';
    return `native: ${name}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  const ours = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (ours) return `convene ${ours[1]}/${ours[2]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0] === 'internal' ? url.slice(5) : url.slice(5)}`;
  return url;
}

/** Self time by category and by function, and inclusive time of the heaviest functions. */
export function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((sum, v) => sum + v, 0);
  const idleIds = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id);
  const idle = idleIds.reduce((sum, id) => sum + (selfUs.get(id) ?? 0), 0);
  const busy = total - idle;

  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const key = (node) => {
    const f = node.callFrame;
    const where = f.url
      ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|packages|apps)\//, '$1/')}:${f.lineNumber + 1}`
      : '';
    return `${f.functionName || '(anonymous)'} ${where}`.trim();
  };
  const byCategory = new Map();
  const bySelf = new Map();
  const byInclusive = new Map();
  for (const [id, us] of selfUs) {
    const node = nodes.get(id);
    if (node.callFrame.functionName === '(idle)') continue;
    const cat = category(node.callFrame.url, node.callFrame.functionName);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    bySelf.set(key(node), (bySelf.get(key(node)) ?? 0) + us);
    // inclusive: charge every distinct function on the stack once
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const k = key(nodes.get(at));
      if (seen.has(k)) continue;
      seen.add(k);
      byInclusive.set(k, (byInclusive.get(k) ?? 0) + us);
    }
  }
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const list = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `  ${pct(us)}  ${name}`)
      .join('\n');
  return [
    `sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / total).toFixed(0)}% of wall); shares below are of busy time`,
    '\nself time by area:',
    list(byCategory, 20),
    `\nself time, top ${top} functions:`,
    list(bySelf, top),
    `\ninclusive time, top ${top} functions (a function and everything it called):`,
    list(new Map([...byInclusive].filter(([name]) => !/^\((root|program)\)/.test(name))), top),
  ].join('\n');
}
