import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectPageText, expectSeesAndHears, joinMeeting, participants } from './meeting.js';
import {
  availableBrowsers,
  type FirefoxPerson,
  launchChromium,
  openChromiumPerson,
  openFirefoxPerson,
  type Person,
} from './people.js';
import { type RunningServer, startServer } from './server.js';

// scripts/test.mjs reports this file as skipped (loudly) when firefox-esr is missing; .ci/run fails then.
describe.skipIf(!availableBrowsers.has('firefox'))('Chromium and Firefox in one room', () => {
  let server: RunningServer;
  let browser: Browser;
  let firefox: FirefoxPerson | undefined;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
  });
  afterAll(async () => {
    await firefox?.shutdown();
    await browser?.close();
    await server?.stop();
  });

  it('see and hear each other, and Firefox shows Chromium muting', async () => {
    const roomUrl = `${server.url}/r/cross-browser`;
    firefox = await openFirefoxPerson();
    const chromiumPerson: Person = await openChromiumPerson(browser);
    await joinMeeting(firefox, roomUrl, 'Fiona');
    await joinMeeting(chromiumPerson, roomUrl, 'Chris');

    await Promise.all([
      expectSeesAndHears(firefox, ['Chris'], { timeoutMs: 30_000 }),
      expectSeesAndHears(chromiumPerson, ['Fiona'], { timeoutMs: 30_000 }),
    ]);

    await chromiumPerson.clickButton('Mute');
    const mutedAt = Date.now();
    await expectPageText(firefox, 'Microphone muted', 1_000);
    expect(Date.now() - mutedAt).toBeLessThan(1_000);
    expect((await participants(firefox)).find((p) => p.name === 'Chris')?.audioMuted).toBe(true);
  });
});
