import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  expectPageText,
  expectSeesAndHears,
  expectVideoRising,
  joinMeeting,
  participants,
  remoteViews,
  sleep,
} from './meeting.js';
import { launchChromium, openChromiumPerson, type Person } from './people.js';
import { type RunningServer, startServer } from './server.js';

describe('two people in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let ada: Person;
  let grace: Person;
  let roomUrl: string;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    [ada, grace] = await Promise.all([openChromiumPerson(browser), openChromiumPerson(browser)]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('starts a new meeting from the home page and both see and hear each other', async () => {
    await ada.goto(server.url);
    await ada.clickButton('New meeting');
    await eventually('a room link', async () => (/\/r\/[a-z0-9-]+$/.test(ada.url()) ? true : undefined));
    roomUrl = ada.url();

    await ada.fill('Your name', 'Ada');
    await ada.clickButton('Join');
    await ada.waitForButton('Leave');
    await joinMeeting(grace, roomUrl, 'Grace');

    await Promise.all([expectSeesAndHears(ada, ['Grace']), expectSeesAndHears(grace, ['Ada'])]);
    const [adaView] = await remoteViews(grace);
    expect(adaView?.connectionState).toBe('connected');
    expect(adaView?.videoWidth).toBeGreaterThan(0);
    expect(adaView?.videoWidth).toBe(adaView?.video?.frameWidth); // the tile shows the decoded stream
    await expectPageText(grace, 'Ada');
  });

  it('shows a muted microphone and a stopped camera to the other side within a second', async () => {
    await ada.clickButton('Mute');
    const mutedAt = Date.now();
    await eventually(
      'Ada shown muted',
      async () => ((await participants(grace)).find((p) => p.name === 'Ada')?.audioMuted ? true : undefined),
      1_000,
      50,
    );
    expect(Date.now() - mutedAt).toBeLessThan(1_000);
    await expectPageText(grace, 'Microphone muted', 1_000 - (Date.now() - mutedAt));
    await ada.waitForButton('Unmute');

    await ada.clickButton('Stop video');
    const stoppedAt = Date.now();
    await eventually(
      'Ada shown with camera off',
      async () => ((await participants(grace)).find((p) => p.name === 'Ada')?.videoMuted ? true : undefined),
      1_000,
      50,
    );
    await expectPageText(grace, 'Camera off', 1_000 - (Date.now() - stoppedAt));

    await ada.clickButton('Start video');
    await ada.clickButton('Unmute');
    await eventually('Ada unmuted with video', async () => {
      const view = (await participants(grace)).find((p) => p.name === 'Ada');
      return view && !view.audioMuted && !view.videoMuted ? true : undefined;
    });
    await eventually('Ada video live again', async () => {
      await expectVideoRising(grace, 'Ada', 1_000);
      return true;
    });
  });

  it('keeps the call up while switching camera and microphone', async () => {
    const before = (await remoteViews(grace)).find((view) => view.name === 'Ada');
    await ada.clickButton('Settings');
    await ada.selectOption('Camera', 2); // fake_device_2 (see launchChromium)
    await ada.selectOption('Microphone', 1);
    await sleep(1_000);
    await expectVideoRising(grace, 'Ada');
    const after = (await remoteViews(grace)).find((view) => view.name === 'Ada');
    expect(after?.participantId).toBe(before?.participantId);
    expect(after?.connectionState).toBe('connected');
    expect(after?.audio?.packetsReceived ?? 0).toBeGreaterThan(before?.audio?.packetsReceived ?? 0);
  });

  it('removes a closed tab from the other grid within 2 seconds', async () => {
    await ada.closeTab();
    const closedAt = Date.now();
    await eventually(
      'Ada gone from Grace’s grid',
      async () => ((await participants(grace)).length === 0 ? true : undefined),
      2_000,
      50,
    );
    expect(Date.now() - closedAt).toBeLessThan(2_000);
    await eventually(
      'only Grace’s own tile left',
      async () =>
        (await grace.evaluate(() => document.querySelectorAll('[data-participant-id]').length)) === 1
          ? true
          : undefined,
      2_000 - (Date.now() - closedAt),
      50,
    );
  });
});
