// Load-generator worker for signaling-relay.mjs (forked, IPC with 'advanced' serialization).
// It owns `pairCount` pairs of clients (both ends of each pair), connects them, and on each
// `step` sends an open-loop stream of negotiation messages at the requested rate: the schedule
// never waits for replies. Every message carries its send time (monotonic µs); the receiving end
// of the pair measures relay latency = receive time − send time (same process, same clock).

import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  CANDIDATE_MARKER,
  makeCandidate,
  makeSdp,
  NEGOTIATION,
  pairSizes,
  readStamp,
  SDP_MARKER,
  STAMP_PLACEHOLDER,
  writeStamp,
} from './signals.mjs';
import { buildFrame, connect, frameHeaderLength, nowUs } from './ws-client.mjs';

const send = (message) => process.send(message);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @type {{ ws: import('./ws-client.mjs').RawWebSocket, id: string|null, peerId: string|null, control: object[], waiters: Function[] }[]} */
let clients = [];
let pairs = []; // [{ a, b, templates: [{ client, frame, offset }] x 18 }]
let heartbeat = null;

// Step state, read by every client's onMessage
const step = {
  active: false,
  stepStart: Number.POSITIVE_INFINITY, // stamps ≥ this belong to the current step
  windowStart: 0,
  windowEnd: 0,
  received: 0,
  receivedInWindow: 0,
  latencies: new Float64Array(1 << 16),
  sendTimes: new Float64Array(1 << 16),
  samples: 0,
};
const health = { errors: {}, closes: 0, closeCodes: {}, unexpected: 0 };

function record(stamp, receivedAt) {
  if (stamp < step.stepStart) return; // a late message of an earlier step
  step.received++;
  if (receivedAt >= step.windowStart && receivedAt < step.windowEnd) step.receivedInWindow++;
  // Every message of the step (warm-up included, so a queue built during warm-up shows as growth).
  if (stamp < step.windowEnd) {
    if (step.samples === step.latencies.length) {
      const latencies = new Float64Array(step.latencies.length * 2);
      latencies.set(step.latencies);
      step.latencies = latencies;
      const sendTimes = new Float64Array(step.sendTimes.length * 2);
      sendTimes.set(step.sendTimes);
      step.sendTimes = sendTimes;
    }
    step.latencies[step.samples] = receivedAt - stamp;
    step.sendTimes[step.samples] = stamp;
    step.samples++;
  }
}

function makeClient(ws) {
  const client = { ws, id: null, peerId: null, control: [], waiters: [] };
  ws.onMessage = (payload, receivedAt) => {
    const stamp = readStamp(payload);
    if (stamp >= 0) return record(stamp, receivedAt);
    let message;
    try {
      message = JSON.parse(payload.toString());
    } catch {
      health.unexpected++;
      return;
    }
    if (message.type === 'error' || message.type === 'ERROR') {
      const code = message.code ?? message.payload?.msg ?? 'unknown';
      health.errors[code] = (health.errors[code] ?? 0) + 1;
    }
    client.control.push(message);
    for (const waiter of client.waiters.splice(0)) waiter();
  };
  ws.onClose = () => {
    health.closes++;
    const code = ws.closeCode ?? 'no close frame';
    health.closeCodes[code] = (health.closeCodes[code] ?? 0) + 1;
    for (const waiter of client.waiters.splice(0)) waiter();
  };
  clients.push(client);
  return client;
}

/** Waits for a control message matching `predicate` (already received or next). */
async function expect(client, predicate, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = client.control.find(predicate);
    if (found) return found;
    if (client.ws.closed) {
      throw new Error(
        `connection closed while waiting for ${what} (close ${client.ws.closeCode} ${client.ws.closeReason ?? ''})`,
      );
    }
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(client.control).slice(0, 500)}`);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, left);
      client.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

async function setupConvenePair(wsUrl, index) {
  const join = (name) =>
    JSON.stringify({
      type: 'join',
      id: 1,
      version: 1,
      room: `bench-${index}`,
      name,
      audioMuted: false,
      videoMuted: false,
    });
  const a = makeClient(await connect(wsUrl));
  a.ws.sendText(join(`A ${index}`));
  const joinedA = await expect(a, (m) => m.type === 'joined' || m.type === 'error', 'joined (A)');
  if (joinedA.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(joinedA)}`);
  a.id = joinedA.participantId;
  const b = makeClient(await connect(wsUrl));
  b.ws.sendText(join(`B ${index}`));
  const joinedB = await expect(b, (m) => m.type === 'joined' || m.type === 'error', 'joined (B)');
  if (joinedB.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(joinedB)}`);
  b.id = joinedB.participantId;
  if (joinedB.room.participants[0]?.id !== a.id)
    throw new Error(`B does not see A in the room: ${JSON.stringify(joinedB.room)}`);
  const arrived = await expect(a, (m) => m.type === 'participant-joined', 'participant-joined (A)');
  if (arrived.participant.id !== b.id) throw new Error('A saw a different participant join');
  a.peerId = b.id;
  b.peerId = a.id;
  return { a, b };
}

async function setupPeerJsPair(wsUrl, index, runId) {
  const open = async (id) => {
    const client = makeClient(await connect(`${wsUrl}?key=peerjs&id=${id}&token=t${runId}${index}`));
    const first = await expect(client, (m) => m.type, `OPEN (${id})`);
    if (first.type !== 'OPEN') throw new Error(`PeerJS refused ${id}: ${JSON.stringify(first)}`);
    client.id = id;
    return client;
  };
  const a = await open(`bench-${runId}-a-${index}`);
  const b = await open(`bench-${runId}-b-${index}`);
  a.peerId = b.id;
  b.peerId = a.id;
  return { a, b };
}

/** The 18 messages of one negotiation for a pair, as prebuilt frames with a stamp slot. */
function buildTemplates(server, pair, index) {
  const { offerBytes, answerBytes } = pairSizes(index);
  const offerSdp = makeSdp('offer', offerBytes, index * 2 + 1);
  const answerSdp = makeSdp('answer', answerBytes, index * 2 + 2);
  const connectionId = `mc_${index.toString(36).padStart(12, 'x')}`;
  return NEGOTIATION.map(([side, kind, candidateIndex]) => {
    const from = side === 'a' ? pair.a : pair.b;
    const candidate = makeCandidate(candidateIndex, index * 100 + candidateIndex + (side === 'a' ? 0 : 50));
    let message;
    if (server === 'convene') {
      const data =
        kind === 'candidate'
          ? { candidate }
          : { description: { type: kind, sdp: kind === 'offer' ? offerSdp : answerSdp } };
      message = { type: 'signal', to: from.peerId, data };
    } else {
      // What the PeerJS client library sends for a media connection.
      const payload =
        kind === 'candidate'
          ? { candidate, type: 'media', connectionId }
          : {
              sdp: { type: kind, sdp: kind === 'offer' ? offerSdp : answerSdp },
              type: 'media',
              connectionId,
              browser: 'chrome',
            };
      message = { type: kind.toUpperCase(), payload, dst: from.peerId };
    }
    const payload = Buffer.from(JSON.stringify(message));
    const marker = kind === 'candidate' ? CANDIDATE_MARKER : SDP_MARKER;
    const at = payload.indexOf(marker) + marker.length;
    if (payload.toString('latin1', at, at + STAMP_PLACEHOLDER.length) !== STAMP_PLACEHOLDER) {
      throw new Error('stamp placeholder not found in template');
    }
    return {
      client: from,
      frame: buildFrame(payload),
      offset: frameHeaderLength(payload.length) + at,
      bytes: payload.length,
    };
  });
}

async function setup({ server, wsUrl, pairStart, pairCount, concurrency, runId }) {
  const started = Date.now();
  pairs = new Array(pairCount);
  let next = 0;
  const lane = async () => {
    while (next < pairCount) {
      const i = next++;
      const index = pairStart + i;
      const pair =
        server === 'convene' ? await setupConvenePair(wsUrl, index) : await setupPeerJsPair(wsUrl, index, runId);
      pair.templates = buildTemplates(server, pair, index);
      pairs[i] = pair;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pairCount) }, lane));
  if (server === 'peerjs') {
    // The PeerJS client sends {type:'HEARTBEAT'} every 5 s (the server drops a peer silent for 90 s).
    const frame = buildFrame(Buffer.from(JSON.stringify({ type: 'HEARTBEAT' })));
    let cursor = 0;
    heartbeat = setInterval(() => {
      const perTick = Math.ceil(clients.length / 50);
      for (let i = 0; i < perTick; i++) clients[cursor++ % clients.length].ws.sendFrame(frame);
    }, 100);
  }
  const bytes = pairs.flatMap((pair) => pair.templates.map((t) => t.bytes));
  const meanBytes = bytes.reduce((sum, b) => sum + b, 0) / bytes.length;
  for (const client of clients) client.control.length = 0;
  return { connectMs: Date.now() - started, clients: clients.length, meanMessageBytes: Math.round(meanBytes) };
}

/**
 * One load step: from `startAt` (µs) send at `rate` msg/s until startAt + warmup + measure,
 * then wait (≤ drainMaxUs) until every message of this step has arrived.
 */
async function runStep({ rate, startAt, warmupUs, measureUs, drainMaxUs }) {
  step.stepStart = startAt;
  step.windowStart = startAt + warmupUs;
  step.windowEnd = step.windowStart + measureUs;
  step.received = 0;
  step.receivedInWindow = 0;
  step.samples = 0;
  const sendEnd = step.windowEnd;
  const healthBefore = JSON.stringify(health);
  // How late this worker's own event loop ran: hiccups here are the generator's, not the server's.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  while (nowUs() < startAt - 2000) await sleep(1);
  while (nowUs() < startAt) await new Promise((resolve) => setImmediate(resolve));

  loopDelay.enable();
  const pairCount = pairs.length;
  const perUs = rate / 1e6;
  let sent = 0;
  let sentInWindow = 0;
  // Message n goes to pair n % pairCount, as phase floor(n / pairCount) % 18 of its negotiation.
  let phase = 0;
  let pairIndex = 0;
  let lateSends = 0; // sent > 5 ms after their scheduled time: the generator fell behind
  let maxLagUs = 0;
  await new Promise((resolve) => {
    const tick = () => {
      let now = nowUs();
      const due = Math.min(
        Math.floor((Math.min(now, sendEnd) - startAt) * perUs),
        Math.ceil((sendEnd - startAt) * perUs),
      );
      while (sent < due) {
        const template = pairs[pairIndex].templates[phase];
        const frame = Buffer.allocUnsafe(template.frame.length);
        template.frame.copy(frame);
        now = nowUs();
        writeStamp(frame, template.offset, now);
        template.client.ws.sendFrame(frame);
        const lag = now - (startAt + sent / perUs);
        if (lag > maxLagUs) maxLagUs = lag;
        if (lag > 5000) lateSends++;
        if (now >= step.windowStart && now < step.windowEnd) sentInWindow++;
        sent++;
        pairIndex++;
        if (pairIndex === pairCount) {
          pairIndex = 0;
          phase = phase === 17 ? 0 : phase + 1;
        }
      }
      if (nowUs() >= sendEnd) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  loopDelay.disable();
  const drainDeadline = nowUs() + drainMaxUs;
  while (step.received < sent && nowUs() < drainDeadline) await sleep(10);
  const drainedAt = nowUs();
  const result = {
    sent,
    sentInWindow,
    received: step.received,
    receivedInWindow: step.receivedInWindow,
    drainUs: drainedAt - sendEnd,
    lateSends,
    maxLagUs,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
    latencies: step.latencies.slice(0, step.samples),
    sendTimes: step.sendTimes.slice(0, step.samples),
    health: JSON.stringify(health) === healthBefore ? null : structuredClone(health),
  };
  return result;
}

process.on('message', async (message) => {
  try {
    if (message.cmd === 'setup') send({ evt: 'ready', ...(await setup(message)) });
    else if (message.cmd === 'step') send({ evt: 'step-done', stepId: message.stepId, ...(await runStep(message)) });
    else if (message.cmd === 'close') {
      clearInterval(heartbeat);
      for (const client of clients) client.ws.close();
      await sleep(200);
      for (const client of clients) client.ws.destroy();
      clients = [];
      send({ evt: 'closed' });
      process.disconnect();
    }
  } catch (error) {
    send({ evt: 'error', message: String(error?.stack ?? error) });
  }
});
