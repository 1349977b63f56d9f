import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../apps/web/src/i18n/en.js';
import { zhCN } from '../apps/web/src/i18n/zh-CN.js';
import { eventually, expectPageText, joinMeeting, participants } from './meeting.js';
import { launchChromium, openChromiumPerson } from './people.js';
import { type RunningServer, startServer } from './server.js';

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
    await expectPageText(bob, en['error.room_full']);
    expect(await participants(ada)).toEqual([]); // Ada never saw Bob come in
  });

  it('says a meeting link with an invalid room name is not valid', async () => {
    const person = await openChromiumPerson(browser);
    await person.goto(`${server.url}/r/Not..A..Room`);
    await expectPageText(person, en['room.invalidTitle']);
  });

  it('checks a typed room name before leaving the home page, then opens a valid one', async () => {
    const person = await openChromiumPerson(browser);
    await person.goto(server.url);
    await person.fill('Room name', 'no spaces allowed!');
    await person.clickButton('Join room');
    await expectPageText(person, en['home.errorInvalid']);
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
    await expectPageText(person, en['left.title']);
    await person.clickButton('Rejoin');
    await person.waitForButton('Leave');
  });

  it('speaks Simplified Chinese to a Chinese browser, and switches to English on request', async () => {
    const person = await openChromiumPerson(browser, { locale: 'zh-CN' });
    await person.goto(server.url);
    await expectPageText(person, zhCN['home.newMeeting']);
    // <html lang> follows the language (screen readers, fonts); it is set right after the render.
    const htmlLang = async (lang: string) =>
      (await person.evaluate(() => document.documentElement.lang)) === lang ? true : undefined;
    await eventually('<html lang="zh-CN">', () => htmlLang('zh-CN'), 2_000);
    await person.selectOption(zhCN['lang.label'], 0); // English
    await expectPageText(person, en['home.newMeeting']);
    await eventually('<html lang="en">', () => htmlLang('en'), 2_000);
  });

  it('says the server cannot be reached when it is gone', async () => {
    const person = await openChromiumPerson(browser);
    await person.goto(`${server.url}/r/server-gone`);
    await person.fill('Your name', 'Sam');
    await server.stop();
    await person.clickButton('Join');
    await expectPageText(person, en['error.server_unreachable']);
  });
});
