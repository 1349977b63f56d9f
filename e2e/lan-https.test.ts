import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../apps/web/src/i18n/en.js';
import { eventually, expectSeesAndHears, joinMeeting } from './meeting.js';
import { launchChromium, openChromiumPerson } from './people.js';
import { type RunningServer, startServer } from './server.js';

// A LAN address of our own: a veth pair inside the test's network namespace (scripts/test.mjs runs
// the browser tests in one), so nothing leaves this machine. Browsers treat it like any LAN IP: not
// a secure origin, unlike localhost — exactly what a meeting on a LAN runs into.
const LAN_ADDRESS = '10.77.0.1';
const inOwnNetworkNamespace = process.env.CONVENE_TEST_NETNS === '1';

function addLanInterface(): void {
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  try {
    ip('link', 'add', 'cvlan0', 'type', 'veth', 'peer', 'name', 'cvlan1');
  } catch {
    return; // already there (vitest re-ran the file in the same namespace)
  }
  ip('link', 'set', 'cvlan1', 'up');
  ip('addr', 'add', `${LAN_ADDRESS}/32`, 'dev', 'cvlan0');
  ip('link', 'set', 'cvlan0', 'up');
}

describe.skipIf(!inOwnNetworkNamespace)('a meeting on a LAN address', () => {
  let browser: Browser;
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    addLanInterface();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('over plain http, explains that the camera needs https and still lets people join', async () => {
    const server = await startServer([], LAN_ADDRESS);
    servers.push(server);
    expect(server.url).toBe(`http://${LAN_ADDRESS}:${new URL(server.url).port}`);
    const person = await openChromiumPerson(browser);
    await person.goto(`${server.url}/r/lan-http`);
    await eventually('the https explanation', async () =>
      (await person.text()).includes(en['media.camera.insecure-context']) ? true : undefined,
    );
    await person.fill('Your name', 'Hal');
    await person.clickButton('Join');
    await person.waitForButton('Leave');
  });

  it('over --https with the self-signed certificate, two people see and hear each other', async () => {
    const server = await startServer(['--https'], LAN_ADDRESS);
    servers.push(server);
    expect(server.url.startsWith(`https://${LAN_ADDRESS}:`)).toBe(true);
    // Each person accepted the certificate warning once, as the README tells them to.
    const [ada, bob] = await Promise.all([
      openChromiumPerson(browser, { ignoreHTTPSErrors: true }),
      openChromiumPerson(browser, { ignoreHTTPSErrors: true }),
    ]);
    await joinMeeting(ada, `${server.url}/r/lan-https`, 'Ada');
    await joinMeeting(bob, `${server.url}/r/lan-https`, 'Bob');
    expect(await ada.evaluate(() => window.isSecureContext)).toBe(true);
    await Promise.all([expectSeesAndHears(ada, ['Bob']), expectSeesAndHears(bob, ['Ada'])]);
  });
});
