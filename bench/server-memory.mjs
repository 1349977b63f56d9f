#!/usr/bin/env node
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, networkInterfaces, rssBytes } from './lib/proc.mjs';
import { saveResults } from './lib/results.mjs';
import { conveneAvailable, MEM_PROBE, probeMemory, ROOT, startConvene, startPeerJs } from './lib/servers.mjs';
import { makeCandidate, makeSdp, pairSizes } from './lib/signals.mjs';
import { fmt, int, median, sleep, table } from './lib/stats.mjs';
import { connect } from './lib/ws-client.mjs';

const { values: opts } = parseArgs({
  options: {
    counts: { type: 'string', default: '1000,2000' },
    'room-size': { type: 'string', default: '4' },
    repeats: { type: 'string', default: '3' },
    servers: { type: 'string', default: 'convene,peerjs' },
    stub: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(`usage: node bench/server-memory.mjs [--counts 1000,2000] [--room-size 4] [--repeats 3]
       [--servers convene,peerjs] [--stub] [--out FILE]`);
  process.exit(0);
}
const counts = opts.counts.split(',').map(Number);
const roomSize = Number(opts['room-size']);
const repeats = Number(opts.repeats);
const servers = opts.servers.split(',');
const failures = [];

/** A participant: socket, id, and a counter of relayed signals it received. */
async function joinConvene(wsUrl, room, name) {
  const ws = await connect(wsUrl);
  const client = { ws, id: null, signals: 0, closed: false };
  const joined = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no joined for ${name} in ${room}`)), 20_000);
    ws.onMessage = (payload) => {
      const text = payload.toString();
      if (text.startsWith('{"type":"signal"')) {
        client.signals++;
        return;
      }
      const message = JSON.parse(text);
      if (message.type === 'joined') {
        clearTimeout(timer);
        client.id = message.participantId;
        resolve();
      } else if (message.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${name}: ${text}`));
      }
    };
  });
  ws.onClose = () => {
    client.closed = true;
  };
  ws.sendText(JSON.stringify({ type: 'join', id: 1, version: 1, room, name, audioMuted: false, videoMuted: false }));
  await joined;
  return client;
}

async function joinPeerJs(wsUrl, id) {
  const ws = await connect(`${wsUrl}?key=peerjs&id=${id}&token=t${id}`);
  const client = { ws, id, signals: 0, closed: false };
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no OPEN for ${id}`)), 20_000);
    ws.onMessage = (payload) => {
      const text = payload.toString();
      if (text.startsWith('{"type":"OPEN"')) {
        clearTimeout(timer);
        resolve();
      } else if (text.includes('"src"')) client.signals++;
      else if (text.includes('ERROR') || text.includes('ID-TAKEN')) reject(new Error(`${id}: ${text}`));
    };
  });
  ws.onClose = () => {
    client.closed = true;
  };
  return client;
}

/** Joins rooms [firstRoom, firstRoom + rooms) of `roomSize`, members one after another, rooms 20 at a time. */
async function joinRooms(kind, server, firstRoom, rooms, tag) {
  const result = new Array(rooms);
  let next = 0;
  const lane = async () => {
    while (next < rooms) {
      const index = next++;
      const room = [];
      for (let member = 0; member < roomSize; member++) {
        const name = `${tag}-${firstRoom + index}-${member}`;
        room.push(
          kind === 'peerjs'
            ? await joinPeerJs(server.wsUrl, name)
            : await joinConvene(server.wsUrl, `mem-${tag}-${firstRoom + index}`, name),
        );
      }
      result[index] = room;
    }
  };
  await Promise.all(Array.from({ length: Math.min(20, rooms) }, lane));
  return result;
}

/** Every pair in every room negotiates once: offer, answer, 8 candidates each way. Waits for delivery. */
async function negotiate(kind, rooms) {
  const offerSdp = makeSdp('offer', pairSizes(1).offerBytes, 11);
  const answerSdp = makeSdp('answer', pairSizes(1).answerBytes, 12);
  const message = (to, kind2, candidateIndex) => {
    if (kind === 'peerjs') {
      const payload =
        kind2 === 'candidate'
          ? { candidate: makeCandidate(candidateIndex, candidateIndex), type: 'media', connectionId: 'mc_x' }
          : {
              sdp: { type: kind2, sdp: kind2 === 'offer' ? offerSdp : answerSdp },
              type: 'media',
              connectionId: 'mc_x',
            };
      return JSON.stringify({ type: kind2.toUpperCase(), payload, dst: to.id });
    }
    const data =
      kind2 === 'candidate'
        ? { candidate: makeCandidate(candidateIndex, candidateIndex) }
        : { description: { type: kind2, sdp: kind2 === 'offer' ? offerSdp : answerSdp } };
    return JSON.stringify({ type: 'signal', to: to.id, data });
  };
  let expected = 0;
  const before = rooms.flat().reduce((sum, c) => sum + c.signals, 0);
  for (const room of rooms) {
    for (let i = 0; i < room.length; i++) {
      for (let j = i + 1; j < room.length; j++) {
        const [a, b] = [room[j], room[i]]; // the newcomer offers
        a.ws.sendText(message(b, 'offer'));
        b.ws.sendText(message(a, 'answer'));
        for (let c = 0; c < 8; c++) {
          a.ws.sendText(message(b, 'candidate', c));
          b.ws.sendText(message(a, 'candidate', c));
        }
        expected += 18;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = rooms.flat().reduce((sum, c) => sum + c.signals, 0) - before;
    if (got >= expected) return expected;
    if (Date.now() > deadline) throw new Error(`negotiation: only ${got}/${expected} signals delivered`);
    await sleep(50);
  }
}

async function measure(server) {
  await sleep(500);
  const probe = await probeMemory(server);
  if (!probe.gc) throw new Error('global.gc is not available in the server (did --expose-gc reach node?)');
  return { ...probe.usage, procRss: rssBytes(server.pid) };
}

async function runOnce(kind, repeat) {
  const nodeArgs = ['--expose-gc', '--import', MEM_PROBE];
  const maxCount = Math.max(...counts);
  const server =
    kind === 'peerjs'
      ? await startPeerJs({ nodeArgs, ipc: true, concurrentLimit: maxCount + 1000 })
      : await startConvene({
          nodeArgs,
          ipc: true,
          stub: opts.stub,
          args: ['--log-level', 'warn'],
        });
  const all = [];
  try {
    // Warm-up: code paths run once (JIT, lazy init) are not participants' memory.
    const warm = await joinRooms(kind, server, 0, 5, `w${repeat}`);
    await negotiate(kind, warm);
    for (const client of warm.flat()) client.ws.close();
    await sleep(1500);
    const baseline = await measure(server);
    const points = [];
    let rooms = [];
    for (const count of counts) {
      const have = rooms.length * roomSize;
      const added = await joinRooms(kind, server, rooms.length, Math.ceil((count - have) / roomSize), `r${repeat}`);
      rooms = rooms.concat(added);
      all.push(...added.flat());
      const n = rooms.length * roomSize;
      const joined = await measure(server);
      const messages = await negotiate(kind, added);
      const negotiated = await measure(server);
      const closed = all.filter((c) => c.closed).length;
      if (closed) throw new Error(`${closed} participants were disconnected during the run`);
      points.push({ n, joined, negotiated, messages });
      const per = (m, key) => (m[key] - baseline[key]) / n;
      console.log(
        `  ${kind.padEnd(8)} run ${repeat}: ${int(n)} participants: RSS ${fmt(per(joined, 'procRss') / 1024, 1)} KB, heap ${fmt(
          per(joined, 'heapUsed') / 1024,
          1,
        )} KB per participant joined; after negotiating: RSS ${fmt(per(negotiated, 'procRss') / 1024, 1)} KB, heap ${fmt(
          per(negotiated, 'heapUsed') / 1024,
          1,
        )} KB`,
      );
    }
    return { server: kind, repeat, baseline, points };
  } finally {
    for (const client of all) client.ws.destroy();
    await server.stop();
  }
}

async function main() {
  const ifaces = networkInterfaces();
  console.log(
    `server-memory: participants ${counts.join(', ')} in rooms of ${roomSize}, ${repeats} repeats; network: ${ifaces.join(', ')}`,
  );
  if (servers.includes('convene') && !opts.stub && !conveneAvailable()) {
    console.error('✖ packages/server/dist/cli.js does not exist: build the server first');
    process.exit(2);
  }
  if (opts.stub) console.log('⚠ --stub: "convene" is bench/lib/stub-server.mjs, NOT Convene.');
  const runs = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    for (const kind of servers) {
      try {
        runs.push(await runOnce(kind, repeat));
      } catch (error) {
        failures.push(`${kind} run ${repeat}: ${error.message}`);
        console.error(`✖ ${kind} run ${repeat}: ${error.stack}`);
      }
    }
  }

  const rows = [];
  const summary = {};
  for (const kind of servers) {
    const mine = runs.filter((r) => r.server === kind);
    if (!mine.length) continue;
    summary[kind] = {};
    for (const [i, count] of counts.entries()) {
      const at = mine.map((r) => ({ baseline: r.baseline, point: r.points[i] })).filter((x) => x.point);
      for (const state of ['joined', 'negotiated']) {
        const per = (key) => at.map((x) => (x.point[state][key] - x.baseline[key]) / x.point.n);
        const rss = per('procRss');
        const heap = per('heapUsed');
        const external = per('external');
        const row = {
          n: at[0]?.point.n ?? count,
          rssKB: median(rss) / 1024,
          heapKB: median(heap) / 1024,
          externalKB: median(external) / 1024,
          rssRuns: rss.map((v) => v / 1024),
          heapRuns: heap.map((v) => v / 1024),
        };
        summary[kind][`${count}-${state}`] = row;
        rows.push([
          kind === 'convene' && opts.stub ? 'convene-STUB' : kind,
          int(row.n),
          state === 'joined' ? 'joined, idle' : 'after 1 negotiation per pair',
          fmt(row.rssKB, 1),
          row.rssRuns.map((v) => fmt(v, 1)).join(' / '),
          fmt(row.heapKB, 1),
          row.heapRuns.map((v) => fmt(v, 1)).join(' / '),
          fmt(row.externalKB, 1),
        ]);
      }
    }
    // Marginal cost between the two counts removes fixed costs entirely.
    if (counts.length >= 2) {
      const [n1, n2] = [counts[0], counts[counts.length - 1]];
      const marginal = mine
        .filter((r) => r.points.length === counts.length)
        .map((r) => {
          const a = r.points[0];
          const b = r.points[r.points.length - 1];
          return {
            rss: (b.negotiated.procRss - a.negotiated.procRss) / (b.n - a.n),
            heap: (b.negotiated.heapUsed - a.negotiated.heapUsed) / (b.n - a.n),
          };
        });
      summary[kind].marginal = {
        from: n1,
        to: n2,
        rssKB: median(marginal.map((m) => m.rss)) / 1024,
        heapKB: median(marginal.map((m) => m.heap)) / 1024,
      };
    }
  }
  console.log('\nMemory per participant, (after − baseline) / N, medians over runs (individual runs after them), KB:');
  console.log(
    table(['server', 'N', 'state', 'RSS KB/participant', 'runs', 'heap KB/participant', 'runs', 'external KB'], rows),
  );
  for (const kind of Object.keys(summary)) {
    const m = summary[kind].marginal;
    if (m) {
      console.log(
        `${kind}: marginal cost from ${int(m.from)} to ${int(m.to)} participants (negotiated): RSS ${fmt(m.rssKB, 1)} KB, heap ${fmt(m.heapKB, 1)} KB per participant`,
      );
    }
  }
  if (summary.convene) {
    const worst = Math.max(
      ...Object.values(summary.convene)
        .filter((row) => row.rssKB !== undefined)
        .map((row) => Math.max(row.rssKB, row.heapKB)),
    );
    console.log(
      `Target < 0.5 MB (512 KB) per participant: ${worst < 512 ? 'MET' : 'NOT MET'} (worst median ${fmt(worst, 1)} KB)`,
    );
  }
  const out =
    opts.out ?? join(ROOT, 'bench', '.runs', `server-memory-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  saveResults(out, { machine: machineInfo(), counts, roomSize, summary, runs, failures }, { failures });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
