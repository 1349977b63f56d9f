import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, expectSeesAndHears, joinMeeting, remoteViews } from './meeting.js';
import { launchChromium, openChromiumPerson, type Person } from './people.js';
import { type RunningServer, startServer } from './server.js';

// The seed's NAT traversal, proven in a browser: with `?relay=1` the web app allows relay
// candidates only (iceTransportPolicy 'relay'), so media can only flow through our embedded TURN
// server. Loopback peers must be allowed for that inside the test's namespace (test-only flag).
describe('two Chromium people forced through the embedded TURN server', () => {
  let server: RunningServer;
  let browser: Browser;
  let ada: Person;
  let grace: Person;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(['--turn-allow-loopback']), launchChromium()]);
    [ada, grace] = await Promise.all([openChromiumPerson(browser), openChromiumPerson(browser)]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('see and hear each other, and both sides use a relay candidate', async () => {
    const roomUrl = `${server.url}/r/relay-check?relay=1`;
    await joinMeeting(ada, roomUrl, 'Ada');
    await joinMeeting(grace, roomUrl, 'Grace');
    await Promise.all([expectSeesAndHears(ada, ['Grace']), expectSeesAndHears(grace, ['Ada'])]);
    for (const person of [ada, grace]) {
      const types = await eventually('the selected candidate pair', async () => {
        const views = await remoteViews(person);
        return views.every((view) => view.localCandidateType !== null)
          ? views.map((v) => v.localCandidateType)
          : undefined;
      });
      expect(types).toEqual(['relay']);
    }
  });
});
