import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, expectPageText, expectSeesAndHears, joinMeeting, participants } from './meeting.js';
import { launchChromium, openChromiumPerson } from './people.js';
import { type RunningServer, startServer } from './server.js';

describe('a person whose browser blocks the camera', () => {
  let server: RunningServer;
  let withDevices: Browser;
  let withPrompts: Browser;

  beforeAll(async () => {
    [server, withDevices, withPrompts] = await Promise.all([
      startServer(),
      launchChromium(),
      // No auto-accepting permission UI: headless Chromium denies what was not granted.
      launchChromium({ fakeMediaPermissionUi: false }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([withDevices?.close(), withPrompts?.close()]);
    await server?.stop();
  });

  it('is told in plain words, joins anyway, and sees and hears the others', async () => {
    const roomUrl = `${server.url}/r/camera-blocked`;
    const ada = await openChromiumPerson(withDevices);
    // Microphone allowed, camera denied — the common "blocked the camera" case.
    const bob = await openChromiumPerson(withPrompts, { grant: ['microphone'], origin: server.url });

    await joinMeeting(ada, roomUrl, 'Ada');
    await bob.goto(roomUrl);
    await eventually('the camera-blocked notice', async () =>
      /camera/i.test(await bob.text()) && /blocked|denied/i.test(await bob.text()) ? true : undefined,
    );
    await bob.fill('Your name', 'Bob');
    await bob.clickButton('Join');
    await bob.waitForButton('Leave');

    await expectSeesAndHears(bob, ['Ada']);
    await expectSeesAndHears(ada, ['Bob'], { withoutVideoFrom: ['Bob'] });
    const bobAsSeenByAda = (await participants(ada)).find((p) => p.name === 'Bob');
    expect(bobAsSeenByAda?.videoMuted).toBe(true);
    await expectPageText(ada, 'Camera off');
  });
});
