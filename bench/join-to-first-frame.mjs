#!/usr/bin/env node
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { machineInfo, networkInterfaces, startCpuSample } from './lib/proc.mjs';
import { saveResults } from './lib/results.mjs';
import { conveneAvailable, ROOT, startConvene } from './lib/servers.mjs';
import { fmt, median, percentile, sleep, table } from './lib/stats.mjs';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '12' },
    timeout: { type: 'string', default: '20' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log('usage: node bench/join-to-first-frame.mjs [--runs 12] [--timeout 20 (s per run)] [--out FILE]');
  process.exit(0);
}
const RUNS = Number(opts.runs);
const TIMEOUT_MS = Number(opts.timeout) * 1000;

// Runs in person A's page before any app script.
function instrument() {
  window.__CONVENE_DEBUG__ = true;
  const t = {
    click: null,
    joined: null,
    pcCreated: null,
    iceConnected: null,
    connected: null,
    track: null,
    tile: null,
    frame: null,
    frameExpectedDisplay: null,
    framePresented: null,
    poll: null,
  };
  window.__j2f = t;
  // Milestones on the way, observed from outside the app: the `joined` answer on the signaling
  // socket, and the first peer connection's creation, ICE connected, connected (DTLS) and track.
  const first = (key) => {
    if (t.click !== null && t[key] === null) t[key] = performance.now();
  };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (typeof event.data === 'string' && event.data.startsWith('{"type":"joined"')) first('joined');
      });
    }
  };
  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(...args) {
      super(...args);
      first('pcCreated');
      this.addEventListener('iceconnectionstatechange', () => {
        if (this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed') first('iceConnected');
      });
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected') first('connected');
      });
      this.addEventListener('track', (event) => {
        if (event.track.kind === 'video') first('track');
      });
    }
  };
  window.addEventListener(
    'click',
    (event) => {
      const button = event.target instanceof Element ? event.target.closest('button') : null;
      if (t.click === null && button && button.textContent.trim() === 'Join') t.click = performance.now();
    },
    true,
  );
  let watched = null;
  const shown = (video) => video.isConnected && !video.classList.contains('is-hidden') && video.offsetParent !== null;
  const onFrame = (now, metadata) => {
    if (t.click === null || t.frame !== null) return;
    if (!shown(watched)) {
      watched.requestVideoFrameCallback(onFrame);
      return;
    }
    t.frame = now;
    t.frameExpectedDisplay = metadata.expectedDisplayTime;
    t.framePresented = metadata.presentationTime;
  };
  const loop = () => {
    if (t.click !== null) {
      const video = document.querySelector('[data-participant-id]:not([data-self]) video');
      if (video) {
        if (t.tile === null) t.tile = performance.now();
        if (video !== watched) {
          watched = video;
          video.requestVideoFrameCallback(onFrame);
        }
        if (t.poll === null && shown(video) && video.videoWidth > 0 && video.currentTime > 0)
          t.poll = performance.now();
      }
    }
    if (t.frame === null || t.poll === null) requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
}

function debugOnly() {
  window.__CONVENE_DEBUG__ = true;
}

async function person(browser, script) {
  const context = await browser.newContext();
  await context.addInitScript(script);
  const page = await context.newPage();
  return { context, page };
}

async function enterRoom(page, url, name) {
  await page.goto(url);
  await page.getByLabel('Your name', { exact: true }).fill(name, { timeout: 20_000 });
  const join = page.getByRole('button', { name: 'Join', exact: true });
  await join.waitFor({ state: 'visible', timeout: 20_000 });
  // As a person would: click once the camera preview shows.
  await page.waitForFunction(
    () => {
      const preview = document.querySelector('.preview video');
      const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Join');
      return preview && preview.videoWidth > 0 && button && !button.disabled;
    },
    null,
    { timeout: 20_000 },
  );
  await join.click({ timeout: 20_000 });
}

async function oneRun(browser, baseUrl, index) {
  const room = `j2f-${Date.now().toString(36)}-${index}`;
  const b = await person(browser, debugOnly);
  const a = await person(browser, instrument);
  let stage = 'B enters';
  try {
    await enterRoom(b.page, `${baseUrl}/r/${room}`, 'Bea');
    stage = 'B in the room';
    await b.page.getByRole('button', { name: 'Leave', exact: true }).waitFor({ state: 'visible', timeout: 20_000 });
    await b.page.waitForFunction(() => document.querySelector('[data-self] video')?.videoWidth > 0, null, {
      timeout: 20_000,
    });
    await sleep(300);
    stage = 'A enters';
    await enterRoom(a.page, `${baseUrl}/r/${room}`, 'Abe');
    stage = 'A waits for the first frame';
    await a.page.waitForFunction(() => window.__j2f.frame !== null && window.__j2f.poll !== null, null, {
      timeout: TIMEOUT_MS,
      polling: 50,
    });
    const t = await a.page.evaluate(() => window.__j2f);
    const since = (key) => (t[key] === null ? Number.NaN : t[key] - t.click);
    return {
      room,
      clickToJoinedMs: since('joined'),
      clickToPcMs: since('pcCreated'),
      clickToTrackMs: since('track'),
      clickToIceConnectedMs: since('iceConnected'),
      clickToConnectedMs: since('connected'),
      clickToTileMs: t.tile - t.click,
      clickToFrameMs: t.frame - t.click,
      clickToExpectedDisplayMs: t.frameExpectedDisplay - t.click,
      clickToPollMs: t.poll - t.click,
    };
  } catch (error) {
    const text = async (page) =>
      (await page.evaluate(() => document.body?.textContent ?? '').catch(() => '?')).replace(/\s+/g, ' ').slice(0, 300);
    const state = await a.page.evaluate(() => JSON.stringify(window.__j2f)).catch(() => '?');
    const stats = async (page) =>
      page.evaluate(async () => JSON.stringify((await window.__convene?.stats()) ?? null)).catch(() => '?');
    error.message = `${stage}: ${error.message.split('\n')[0]} | A sees: ${await text(a.page)} | B sees: ${await text(
      b.page,
    )} | A timings: ${state} | A stats: ${await stats(a.page)} | B stats: ${await stats(b.page)}`;
    error.noFrame = stage === 'A waits for the first frame';
    throw error;
  } finally {
    await a.context.close();
    await b.context.close();
  }
}

async function main() {
  const ifaces = networkInterfaces();
  console.log(`join-to-first-frame: ${RUNS} runs; network: ${ifaces.join(', ')}`);
  if (!conveneAvailable()) {
    console.error('✖ packages/server/dist/cli.js does not exist: build the server first');
    process.exit(2);
  }
  const server = await startConvene({ args: ['--log-level', 'warn'] });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
    ],
  });
  const chromiumVersion = browser.version();
  console.log(`Chromium ${chromiumVersion}, server ${server.url}`);
  const runs = [];
  const failures = []; // the harness could not drive the page
  const noFrame = []; // both people in the room, but A saw no frame of B in time: the app's outcome
  let machineBusyPct = Number.NaN; // both cores, everything: this benchmark's browser and server included
  let loadBefore = '';
  try {
    const home = await fetch(`${server.url}/r/j2f-check`);
    if (!home.ok) throw new Error(`GET /r/<room> answered ${home.status}: is apps/web/dist built?`);
    // One unmeasured run: first-load costs (browser process start, codec init) are not a join's.
    try {
      const warm = await oneRun(browser, server.url, 0);
      console.log(`  warm-up: click → first frame ${fmt(warm.clickToFrameMs, 0)} ms (not counted)`);
    } catch (error) {
      failures.push(`warm-up: ${error.message.split('\n')[0]}`);
    }
    const stopCpu = startCpuSample([]);
    loadBefore = machineInfo().loadavg;
    for (let i = 1; i <= RUNS; i++) {
      try {
        const run = await oneRun(browser, server.url, i);
        runs.push(run);
        console.log(
          `  run ${String(i).padStart(2)}: click → joined ${fmt(run.clickToJoinedMs, 0)}, B's tile ${fmt(run.clickToTileMs, 0)}, ` +
            `pc ${fmt(run.clickToPcMs, 0)}, track ${fmt(run.clickToTrackMs, 0)}, ICE ${fmt(run.clickToIceConnectedMs, 0)}, ` +
            `connected ${fmt(run.clickToConnectedMs, 0)}, first frame (rVFC) ${fmt(run.clickToFrameMs, 0)} ms ` +
            `(expected display ${fmt(run.clickToExpectedDisplayMs, 0)}, rAF poll ${fmt(run.clickToPollMs, 0)})`,
        );
      } catch (error) {
        if (error.noFrame) noFrame.push(`run ${i}: ${error.message}`);
        else failures.push(`run ${i}: ${error.message}`);
        console.error(`  run ${i} failed: ${error.message}`);
      }
    }
    machineBusyPct = stopCpu().machineBusyPct;
  } finally {
    await browser.close();
    await server.stop();
  }

  const stats = (key) => {
    const values = runs
      .map((r) => r[key])
      .filter(Number.isFinite)
      .sort((x, y) => x - y);
    return {
      p50: percentile(values, 0.5),
      p90: percentile(values, 0.9),
      min: values[0],
      max: values.at(-1),
      median: median(values),
    };
  };
  const rows = [
    ['click → `joined` received', stats('clickToJoinedMs')],
    ["click → B's tile in the DOM", stats('clickToTileMs')],
    ['click → first RTCPeerConnection created', stats('clickToPcMs')],
    ['click → remote video track (ontrack)', stats('clickToTrackMs')],
    ['click → ICE connected', stats('clickToIceConnectedMs')],
    ['click → connected (DTLS done)', stats('clickToConnectedMs')],
    ['click → first frame shown (rVFC)', stats('clickToFrameMs')],
    ['click → first frame expected on display (rVFC)', stats('clickToExpectedDisplayMs')],
    ['click → first frame seen by rAF polling', stats('clickToPollMs')],
  ];
  console.log(`\nJoin to first remote frame, ${runs.length} runs (nearest-rank percentiles), ms:`);
  console.log(
    table(
      ['interval', 'p50', 'p90', 'min', 'max'],
      rows.map(([name, s]) => [name, fmt(s.p50, 0), fmt(s.p90, 0), fmt(s.min, 0), fmt(s.max, 0)]),
    ),
  );
  if (noFrame.length) {
    console.log(
      `⚠ ${noFrame.length} of ${runs.length + noFrame.length} joins showed no remote frame within ${TIMEOUT_MS / 1000} s (both people in the room); not in the percentiles`,
    );
  }
  console.log(
    `machine during the measured runs: ${fmt(machineBusyPct, 0)}% busy (all cores, this benchmark included); ` +
      `load average before ${loadBefore}, after ${machineInfo().loadavg}`,
  );
  const headline = stats('clickToFrameMs');
  console.log(
    `Target p50 < 300 ms: ${headline.p50 < 300 ? 'MET' : 'NOT MET'} (p50 ${fmt(headline.p50, 0)} ms, p90 ${fmt(headline.p90, 0)} ms)`,
  );
  const out =
    opts.out ??
    join(ROOT, 'bench', '.runs', `join-to-first-frame-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  saveResults(
    out,
    {
      machine: machineInfo(),
      chromium: chromiumVersion,
      machineBusyPct,
      loadBefore,
      runs,
      summary: Object.fromEntries(rows.map(([n, s]) => [n, s])),
      noFrame,
      failures,
    },
    {
      failures,
      failed: failures.length > 0 || runs.length < Math.min(RUNS, 10),
      what: 'harness failures or fewer than 10 measured runs',
    },
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
