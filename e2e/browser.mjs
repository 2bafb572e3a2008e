// What every browser test shares: the server, the demo password, where screenshots go, the fixtures,
// Debian's Chromium with the flags this machine needs, pages that record their own problems, and sign-in.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE = (process.env.GRIDWARD_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const PASSWORD = process.env.GRIDWARD_DEMO_PASSWORD;
export const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
// A 320×240 JPEG with EXIF capture time and a GPS position in 钟秀街道.
export const PHOTO = fileURLToPath(new URL('./fixtures/stall.jpg', import.meta.url));
export const DESKTOP = { viewport: { width: 1280, height: 800 } };
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// A fresh page that records script errors and failed same-origin requests in `page.problems`.
export async function openPage(browser, options) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`script error: ${e.message}`));
  page.on('response', (r) => {
    const url = new URL(r.url());
    // Browsers ask for /favicon.ico on their own; a missing one is not the app's fault.
    if (r.status() >= 400 && url.origin === new URL(BASE).origin && url.pathname !== '/favicon.ico') {
      page.problems.push(`HTTP ${r.status()} ${url.pathname}${url.search}`);
    }
  });
  return page;
}

export async function signInAs(page, user, password = PASSWORD) {
  await page.goto(BASE + '/login');
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}
