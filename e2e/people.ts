/**
 * A "person" is one browser tab driven like a user drives it: by visible labels and button
 * names. Chromium (Debian `chromium`) is driven by playwright-core; Firefox (Debian
 * `firefox-esr`) by puppeteer-core over WebDriver BiDi, since Playwright cannot drive stock
 * Firefox. Both expose the same small interface so a test reads the same for either browser.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page, type Browser as PlaywrightBrowser } from 'playwright-core';
import puppeteer, { type Browser as PuppeteerBrowser, type Page as PuppeteerPage } from 'puppeteer-core';

export type BrowserName = 'chromium' | 'firefox';

/** Browsers `npm test` found on this machine (scripts/test.mjs sets this). */
export const availableBrowsers = new Set(
  (process.env.CONVENE_E2E_BROWSERS ?? 'chromium').split(',').filter(Boolean) as BrowserName[],
);

export interface Person {
  readonly browserName: BrowserName;
  goto(url: string): Promise<void>;
  url(): string;
  clickButton(name: string): Promise<void>;
  fill(label: string, text: string): Promise<void>;
  /** Picks the option at `index` of the select labelled `label`. */
  selectOption(label: string, index: number): Promise<void>;
  /** Visible text of the page. */
  text(): Promise<string>;
  /** Resolves once a button with this accessible name is on the page. */
  waitForButton(name: string, timeoutMs?: number): Promise<void>;
  evaluate<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Closes the tab the way a user does (no leave click). */
  closeTab(): Promise<void>;
}

const debugInitScript = () => {
  (window as unknown as { __CONVENE_DEBUG__: boolean }).__CONVENE_DEBUG__ = true;
};

// ------------------------------------------------------------------ Chromium

export interface ChromiumOptions {
  /** false: the browser prompts for camera/mic permission (headless denies what was not granted). */
  fakeMediaPermissionUi?: boolean;
}

export async function launchChromium(options: ChromiumOptions = {}): Promise<PlaywrightBrowser> {
  const args = [
    // Fake cameras and mics, three of each, to test switching. Chromium's fake camera 1 produces Y16
    // depth frames that WebRTC does not encode; cameras 0 (I420) and 2 (MJPEG) behave like real ones.
    '--use-fake-device-for-media-stream=device-count=3',
    '--allow-loopback-in-peer-connection', // else no ICE candidate at all in a loopback-only namespace
    '--autoplay-policy=no-user-gesture-required',
  ];
  if (options.fakeMediaPermissionUi !== false) args.push('--use-fake-ui-for-media-stream');
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
}

export async function openChromiumPerson(
  browser: PlaywrightBrowser,
  contextOptions: Parameters<PlaywrightBrowser['newContext']>[0] & { grant?: string[]; origin?: string } = {},
): Promise<Person> {
  const { grant, origin, ...rest } = contextOptions;
  const context: BrowserContext = await browser.newContext(rest);
  if (grant && origin) await context.grantPermissions(grant, { origin });
  await context.addInitScript(debugInitScript);
  const page: Page = await context.newPage();
  return {
    browserName: 'chromium',
    goto: async (url) => {
      await page.goto(url);
    },
    url: () => page.url(),
    clickButton: (name) => page.getByRole('button', { name, exact: true }).click(),
    fill: (label, text) => page.getByLabel(label, { exact: true }).fill(text),
    selectOption: async (label, index) => {
      await page.getByLabel(label, { exact: true }).selectOption({ index });
    },
    // biome-ignore lint/performance/useDomNodeTextContent: the visible text is what a person reads
    text: () => page.locator('body').innerText(),
    waitForButton: (name, timeoutMs = 20_000) =>
      page.getByRole('button', { name, exact: true }).waitFor({ state: 'visible', timeout: timeoutMs }),
    evaluate: (fn) => page.evaluate(fn),
    closeTab: async () => {
      await page.close({ runBeforeUnload: true });
      await context.close();
    },
  };
}

// ------------------------------------------------------------------ Firefox

export interface FirefoxPerson extends Person {
  shutdown(): Promise<void>;
}

export async function openFirefoxPerson(): Promise<FirefoxPerson> {
  const profile = mkdtempSync(join(tmpdir(), 'convene-firefox-'));
  const browser: PuppeteerBrowser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    userDataDir: profile,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.peerconnection.ice.loopback': true, // else ICE fails on loopback
      // Firefox gathers on every interface only with a stored camera/mic permission; without a
      // default route (loopback-only namespace) it would otherwise gather nothing.
      'permissions.default.camera': 1,
      'permissions.default.microphone': 1,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'media.autoplay.default': 0,
      'app.update.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'media.gmp-manager.updateEnabled': false,
    },
  });
  const page: PuppeteerPage = await browser.newPage();
  await page.evaluateOnNewDocument(debugInitScript);

  // Puppeteer's ARIA queries need CDP; over BiDi we find elements by the same accessible names
  // in the DOM (aria-label, text, <label for>), then click/type with real input events.
  const byButtonName = (name: string) =>
    page.waitForFunction(
      (wanted: string) =>
        [...document.querySelectorAll('button')].find(
          (button) =>
            (button.getAttribute('aria-label') ?? button.textContent ?? '').trim() === wanted &&
            button.getClientRects().length > 0,
        ) ?? null,
      { timeout: 20_000 },
      name,
    );
  const byLabel = (label: string) =>
    page.waitForFunction(
      (wanted: string) => {
        const labelElement = [...document.querySelectorAll('label')].find(
          (candidate) => candidate.textContent?.trim() === wanted,
        );
        if (labelElement?.htmlFor) return document.getElementById(labelElement.htmlFor);
        return (
          labelElement?.querySelector('input,select,textarea') ?? document.querySelector(`[aria-label="${wanted}"]`)
        );
      },
      { timeout: 20_000 },
      label,
    );

  return {
    browserName: 'firefox',
    goto: async (url) => {
      await page.goto(url);
    },
    url: () => page.url(),
    clickButton: async (name) => {
      const handle = await byButtonName(name);
      await (handle as unknown as { click(): Promise<void> }).click();
    },
    fill: async (label, text) => {
      const handle = (await byLabel(label)) as unknown as {
        evaluate(fn: (element: HTMLInputElement) => void): Promise<void>;
        type(text: string): Promise<void>;
        focus(): Promise<void>;
      };
      await handle.evaluate((element) => element.select());
      await handle.type(text);
    },
    selectOption: async (label, index) => {
      const handle = (await byLabel(label)) as unknown as {
        evaluate(fn: (element: HTMLSelectElement, index: number) => void, index: number): Promise<void>;
      };
      await handle.evaluate((element, i) => {
        element.selectedIndex = i;
        element.dispatchEvent(new Event('change', { bubbles: true }));
      }, index);
    },
    // biome-ignore lint/performance/useDomNodeTextContent: the visible text is what a person reads
    text: () => page.evaluate(() => document.body.innerText),
    waitForButton: async (name) => {
      await byButtonName(name);
    },
    evaluate: (fn) => page.evaluate(fn) as never,
    closeTab: () => page.close(),
    shutdown: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
