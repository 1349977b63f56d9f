import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSeesAndHears, joinMeeting, remoteViews } from './meeting.js';
import { launchChromium, openChromiumPerson, type Person } from './people.js';
import { type RunningServer, startServer } from './server.js';

describe('three people in a Chromium mesh', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('everyone sees and hears the two others over direct connections', async () => {
    const roomUrl = `${server.url}/r/mesh-of-three`;
    const names = ['Ada', 'Grace', 'Linus'];
    const people: Person[] = await Promise.all(names.map(() => openChromiumPerson(browser)));
    // Join one after another, as people do; each newcomer connects to everyone already there.
    for (const [index, person] of people.entries()) await joinMeeting(person, roomUrl, names[index] as string);

    await Promise.all(
      people.map((person, index) =>
        expectSeesAndHears(
          person,
          names.filter((_, other) => other !== index),
          { timeoutMs: 30_000 },
        ),
      ),
    );
    for (const person of people) {
      const views = await remoteViews(person);
      expect(views).toHaveLength(2);
      // Mesh: each pair talks directly (host candidates on loopback), no server in the media path.
      for (const view of views) expect(view.localCandidateType).toBe('host');
    }
  });
});
