import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../apps/web/src/i18n/en.js';
import { zhCN } from '../apps/web/src/i18n/zh-CN.js';
import { eventually, joinMeeting, participants } from './meeting.js';
import { launchChromium, openChromiumPerson, type Person } from './people.js';
import { type RunningServer, startServer } from './server.js';

/** Resolves once the page shows `text`; fails with what the page did show. */
async function expectText(person: Person, text: string, timeoutMs = 10_000): Promise<void> {
  let shown = '';
  await eventually(
    `"${text}" on the page`,
    async () => {
      shown = await person.text();
      return shown.includes(text) ? true : undefined;
    },
    timeoutMs,
  ).catch(() => {
    throw new Error(`expected "${text}" on the page; it shows:\n${shown}`);
  });
}

describe('errors in plain words, and the two languages', () => {
  let browser: Browser;
  let server: RunningServer;

  beforeAll(async () => {
    // One person per room: the second one to join a room finds it full.
    [server, browser] = await Promise.all([startServer(['--max-participants', '1']), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('says the meeting is full', async () => {
    const [ada, bob] = await Promise.all([openChromiumPerson(browser), openChromiumPerson(browser)]);
    await joinMeeting(ada, `${server.url}/r/only-one`, 'Ada');
    await bob.goto(`${server.url}/r/only-one`);
    await bob.fill('Your name', 'Bob');
    await bob.clickButton('Join');
    await expectText(bob, en['error.room_full']);
    expect(await participants(ada)).toEqual([]); // Ada never saw Bob come in
  });

  it('says a meeting link with an invalid room name is not valid', async () => {
    const person = await openChromiumPerson(browser);
    await person.goto(`${server.url}/r/Not..A..Room`);
    await expectText(person, en['room.invalidTitle']);
  });

  it('checks a typed room name before leaving the home page, then opens a valid one', async () => {
    const person = await openChromiumPerson(browser);
    await person.goto(server.url);
    await person.fill('Room name', 'no spaces allowed!');
    await person.clickButton('Join room');
    await expectText(person, en['home.errorInvalid']);
    expect(new URL(person.url()).pathname).toBe('/');

    await person.fill('Room name', '  Team-Sync ');
    await person.clickButton('Join room');
    await eventually('the room page', async () =>
      new URL(person.url()).pathname === '/r/team-sync' ? true : undefined,
    );
    await person.waitForButton('Join');
  });

  it('lets a person leave and rejoin', async () => {
    const person = await openChromiumPerson(browser);
    await joinMeeting(person, `${server.url}/r/leave-and-back`, 'Lea');
    await person.clickButton('Leave');
    await expectText(person, en['left.title']);
    await person.clickButton('Rejoin');
    await person.waitForButton('Leave');
  });

  it('speaks Simplified Chinese to a Chinese browser, and switches to English on request', async () => {
    const person = await openChromiumPerson(browser, { locale: 'zh-CN' });
    await person.goto(server.url);
    await expectText(person, zhCN['home.newMeeting']);
    expect(await person.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await person.selectOption(zhCN['lang.label'], 0); // English
    await expectText(person, en['home.newMeeting']);
    expect(await person.evaluate(() => document.documentElement.lang)).toBe('en');
  });

  it('says the server cannot be reached when it is gone', async () => {
    const person = await openChromiumPerson(browser);
    await person.goto(`${server.url}/r/server-gone`);
    await person.fill('Your name', 'Sam');
    await server.stop();
    await person.clickButton('Join');
    await expectText(person, en['error.server_unreachable']);
  });
});
