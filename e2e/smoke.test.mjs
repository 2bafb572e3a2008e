// Browser smoke test against a running Gridward server with the demo city loaded.
//   GRIDWARD_DEMO_PASSWORD=… [GRIDWARD_URL=http://127.0.0.1:8080] [CHROMIUM=/usr/bin/chromium] npm test
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, SHOTS, PHOTO, DESKTOP, PHONE, launch, openPage, signInAs } from './browser.mjs';

const USER = 'dispatcher';
const DISPLAY_NAME = '指挥中心派遣员'; // the demo seed's name for this account

let browser;

before(async () => {
  // Fail every test with one clear reason rather than a confusing login failure.
  assert.ok(PASSWORD, 'GRIDWARD_DEMO_PASSWORD is not set (use the demo password the server prints at start-up)');
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

const newPage = (options) => openPage(browser, options);
const signIn = (page, password = PASSWORD, user = USER) => signInAs(page, user, password);

const path = (page) => new URL(page.url()).pathname;
const pageWidth = (page) => page.evaluate(() => document.documentElement.scrollWidth);

// First, so the successful sign-ins below reset the account's failure count.
test('a wrong password shows an error box', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page, 'wrong-' + Date.now());
    assert.equal(path(page), '/login');
    await page.locator('.error-box').waitFor({ state: 'visible' });
  } finally {
    await page.context().close();
  }
});

test('dispatcher signs in and lands on the home page', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page);
    const box = await page.locator('.error-box').allInnerTexts();
    assert.equal(path(page), '/', `still on ${page.url()} after sign-in; error box: ${box.join(' ') || 'none'}`);
    // The username may only be in an attribute (title), so look at the markup, not just the text.
    const header = await page.locator('header.topbar').innerHTML();
    assert.ok(header.includes(USER) || header.includes(DISPLAY_NAME),
      `header.topbar mentions neither "${USER}" nor "${DISPLAY_NAME}"`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('map shows the districts and synthetic streets', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page);
    await page.goto(BASE + '/map');
    await page.waitForSelector('body[data-map-ready]', { state: 'attached', timeout: 20_000 });
    const ready = await page.getAttribute('body', 'data-map-ready');
    const mapError = await page.getAttribute('body', 'data-map-error');
    await page.screenshot({ path: SHOTS + 'map.png' });

    const m = /^districts:(\d+),streets:(\d+)$/.exec(ready);
    assert.ok(m, `unexpected data-map-ready="${ready}"`);
    const [districts, streets] = [Number(m[1]), Number(m[2])];
    assert.equal(mapError, null, `map reported: ${mapError}`);
    assert.ok(districts >= 7, `only ${districts} districts`);
    assert.ok(streets >= 100, `only ${streets} streets`);
    const paths = await page.locator('.leaflet-overlay-pane path.leaflet-interactive').count();
    assert.ok(paths >= 7, `only ${paths} SVG paths drawn`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('home and map fit a 390px phone screen', async () => {
  const page = await newPage(PHONE);
  try {
    await signIn(page);
    assert.equal(path(page), '/');
    await page.screenshot({ path: SHOTS + 'home-phone.png', fullPage: true });
    assert.ok(await pageWidth(page) <= 390 + 1, `home is ${await pageWidth(page)}px wide`);

    await page.goto(BASE + '/map');
    await page.waitForSelector('body[data-map-ready]', { state: 'attached', timeout: 20_000 });
    await page.screenshot({ path: SHOTS + 'map-phone.png' });
    assert.ok(await pageWidth(page) <= 390 + 1, `map page is ${await pageWidth(page)}px wide`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('division browser walks down to 钟秀街道 and switches language', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page);
    await page.goto(BASE + '/divisions');
    assert.equal(path(page), '/divisions/320600000000');
    await page.click('a[href="/divisions/320613000000"]');
    await page.click('a[href="/divisions/320613007000"]');
    assert.match(await page.locator('h1').innerText(), /钟秀街道/);
    // A street outline is generated, and the page says so.
    assert.equal(await page.locator('h1 + p .badge.synthetic').count(), 1);
    await page.click('a.lang');
    assert.equal(path(page), '/divisions/320613007000');
    assert.ok((await page.locator('main').innerText()).includes('Subdivisions'));
    await page.screenshot({ path: SHOTS + 'division-en.png', fullPage: true });
    await page.click('a.lang');
    assert.ok((await page.locator('main').innerText()).includes('下级区划'));
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('a street officer sees only their own street on the map', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page, PASSWORD, 'officer.wenfeng');
    await page.goto(BASE + '/map');
    await page.waitForSelector('body[data-map-ready]', { state: 'attached', timeout: 20_000 });
    assert.equal(await page.getAttribute('body', 'data-map-ready'), 'districts:1,streets:1');
    await page.screenshot({ path: SHOTS + 'map-officer.png' });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('API docs render offline', async () => {
  const page = await newPage(DESKTOP);
  try {
    await page.goto(BASE + '/api/docs/');
    await page.locator('.swagger-ui .info .title').waitFor({ state: 'visible' });
    assert.match(await page.locator('.swagger-ui .info .title').innerText(), /Gridward API/);
    await page.screenshot({ path: SHOTS + 'api-docs.png' });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('a squad page lists its staff with credential standing', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page);
    await page.click('a[href="/bodies/squad.320613007"]');
    assert.match(await page.locator('h1').innerText(), /钟秀街道综合行政执法队/);
    const rows = await page.locator('table.list tbody tr').count();
    assert.ok(rows >= 4, `only ${rows} staff rows`);
    assert.ok(await page.locator('.badge.due-ok, .badge.due-soon, .badge.due-over').count() >= 3);
    await page.screenshot({ path: SHOTS + 'squad.png', fullPage: true });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('the transparency page shows a signed head to anyone', async () => {
  const page = await newPage(DESKTOP);
  try {
    await page.goto(BASE + '/transparency');
    const size = Number(await page.locator('#head-size').innerText());
    assert.ok(size > 4000, `the demo city should be recorded entry by entry, head size ${size}`);
    assert.match(await page.locator('pre.hash').innerText(), /^gridward checkpoint v1/);
    await page.screenshot({ path: SHOTS + 'transparency.png', fullPage: true });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('an officer photographs a stall as evidence for the squad and sees it listed', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page, PASSWORD, 'officer.zhongxiu');
    await page.click('a[href="/bodies/squad.320613007"]');
    await page.setInputFiles('#evidence-file', PHOTO);
    await Promise.all([page.waitForURL(/[?]added=ev-/), page.click('form.upload button[type=submit]')]);
    const notice = await page.locator('#evidence .notice-box').innerText();
    assert.match(notice, /已上传「stall\.jpg」，记入执法全过程记录第 \d+ 条/);
    const item = page.locator('#evidence li.evidence-item.added');
    assert.equal(await item.count(), 1);
    assert.match(await item.locator('.location').innerText(), /32\.01461, 120\.85982/);
    assert.match(await item.locator('.captured-at').innerText(), /2025-05-12 09:41:27/);
    // The thumbnail is the file itself, fetched with the session cookie and decoded by the browser.
    const thumb = item.locator('img');
    await thumb.scrollIntoViewIfNeeded();
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumb.elementHandle());
    assert.equal(await thumb.evaluate((img) => img.naturalWidth), 320);
    // After the redirect the page stands at #evidence: the notice, the form and the new item in view.
    await page.screenshot({ path: SHOTS + 'evidence.png' });
    assert.deepEqual(page.problems, []);

    const phone = await newPage(PHONE);
    try {
      await signIn(phone, PASSWORD, 'officer.zhongxiu');
      await phone.goto(BASE + '/bodies/squad.320613007#evidence');
      // On a touch screen the camera input is offered first.
      assert.ok(await phone.locator('#evidence-camera').isVisible(), 'the camera input shows on a phone');
      assert.ok(await pageWidth(phone) <= 390 + 1, `the body page is ${await pageWidth(phone)}px wide`);
      await phone.screenshot({ path: SHOTS + 'evidence-phone.png' });
      assert.deepEqual(phone.problems, []);
    } finally {
      await phone.context().close();
    }
  } finally {
    await page.context().close();
  }
});

test('anyone reads 钟秀街道\'s responsibility list, by category with its legal basis', async () => {
  const page = await newPage(DESKTOP);
  try {
    await page.goto(BASE + '/responsibilities');
    await page.click('a[href="/responsibilities/squad.320613007"]');
    assert.equal(await page.locator('#resp-total').innerText(), '143');
    assert.equal(await page.locator('#resp-categories').innerText(), '9');
    assert.equal(await page.locator('section.resp-group').count(), 9);
    assert.match(await page.locator('table.resp').first().innerText(), /《[^》]+》第[一二三四五六七八九十百零]+条/);
    const xlsx = await page.request.get(BASE + '/api/v1/bodies/squad.320613007/responsibilities?format=xlsx');
    assert.equal(xlsx.status(), 200);
    await page.screenshot({ path: SHOTS + 'responsibilities.png' });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('the catalog filters by category and a power shows its legal text and holders', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page, PASSWORD, 'admin');
    await page.click('nav a[href="/catalog"]');
    const all = await page.locator('#catalog tbody tr').count();
    assert.ok(all >= 150, `${all} powers`);
    await page.selectOption('#f-category', '大气污染防治');
    await Promise.all([page.waitForURL(/category=/), page.click('form.filters button[type=submit]')]);
    const air = await page.locator('#catalog tbody tr').count();
    assert.ok(air > 10 && air < all, `${air} air powers of ${all}`);
    await page.screenshot({ path: SHOTS + 'catalog.png' });
    await page.click('#catalog tbody tr a[href="/powers/dqwr.118.1"] >> nth=0');
    // The violation clause (the duty) and the penalty clause are quoted from the statute.
    assert.match(await page.locator('blockquote.law').first().innerText(), /《中华人民共和国大气污染防治法》第[一二三四五六七八九十百零]+条/);
    assert.ok(await page.locator('blockquote.law', { hasText: '第一百一十八条' }).count() >= 1);
    const holders = await page.locator('#holders tbody tr').count();
    assert.ok(holders >= 8, `${holders} holders`);
    assert.match(await page.locator('#holders').innerText(), /钟秀街道综合行政执法队/);
    await page.screenshot({ path: SHOTS + 'power.png', fullPage: true });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('an administrator previews and commits a delegation plan to 文峰街道', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page, PASSWORD, 'admin');
    await page.click('nav a[href="/delegation"]');
    assert.equal(await page.locator('#gap-pairs').innerText(), '0');
    assert.equal(await page.locator('#overlaps').innerText(), '0');
    await page.screenshot({ path: SHOTS + 'delegation.png' });
    await page.click('a[href="/plans/new"]');
    await page.fill('#p-title', '园林绿化事项下放至文峰街道');
    await page.fill('#p-instrument', '崇川区人民政府赋权决定');
    await page.selectOption('#p-body', 'squad.320613008');
    await page.fill('#p-territory', '320613008000');
    await page.selectOption('select[name=quota_from]', 'bureau.320613');
    await page.selectOption('select[name=quota_to]', 'squad.320613008');
    await page.selectOption('select[name=quota_kind]', 'administrative');
    await page.fill('input[name=quota_posts]', '1');
    const group = page.locator('details.power-group', { hasText: '园林绿化' });
    await group.locator('summary input.all').check();
    assert.ok(Number(await page.locator('#p-count').innerText()) >= 5);
    await Promise.all([page.waitForURL(/\/plans\/preview$/), page.click('#plan-form button[type=submit]')]);
    assert.ok(await page.locator('#plan-ok').isVisible(), await page.locator('main').innerText());
    assert.ok(Number(await page.locator('#moves').innerText()) >= 5);
    assert.match(await page.locator('#totals').innerText(), /行政编制\s+(\d+)\s+\1/);
    await page.screenshot({ path: SHOTS + 'plan-preview.png', fullPage: true });
    await Promise.all([page.waitForURL(/committed=\d+/), page.click('#commit')]);
    assert.match(await page.locator('.notice-box').innerText(), /记入执法全过程记录/);
    assert.match(await page.locator('#plans').innerText(), /园林绿化事项下放至文峰街道/);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('an officer clicks the map and sees who is responsible there, and why', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page, PASSWORD, 'officer.zhongxiu');
    await page.goto(BASE + '/map');
    await page.waitForSelector('body[data-map-ready]', { state: 'attached', timeout: 20_000 });
    await page.waitForSelector('#who-power option[value="dqwr.118.1"]', { state: 'attached' });
    await page.selectOption('#who-power', 'dqwr.118.1');
    // Zoom in on the middle of one of 钟秀街道's grids; the grid layer loads at this zoom.
    const point = await page.evaluate(async () => {
      const fc = await (await fetch('/api/v1/grids?territory=320613007000')).json();
      const ring = fc.features[Math.floor(fc.features.length / 2)].geometry.coordinates[0][0].slice(1);
      const lng = ring.reduce((s, c) => s + c[0], 0) / ring.length;
      const lat = ring.reduce((s, c) => s + c[1], 0) / ring.length;
      window.gridwardMap.setView([lat, lng], 17, { animate: false });
      return { lat, lng };
    });
    await page.waitForSelector('body[data-grids-shown]', { state: 'attached', timeout: 20_000 });
    const at = await page.evaluate(({ lat, lng }) => {
      const p = window.gridwardMap.latLngToContainerPoint([lat, lng]);
      const r = window.gridwardMap.getContainer().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    }, point);
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('body[data-route-ready]', { state: 'attached', timeout: 20_000 });
    const grid = await page.getAttribute('body', 'data-route-ready');
    assert.match(grid, /^3206130070\d{6}$/);
    const panel = await page.locator('#who-result').innerText();
    assert.match(panel, /钟秀街道/);
    assert.match(panel, /钟秀街道综合行政执法队/);
    assert.match(panel, /《/, 'the legal basis is quoted');
    assert.ok(Number(await page.getAttribute('body', 'data-grids-shown')) > 100);
    await page.screenshot({ path: SHOTS + 'map-who.png' });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('a leader reads grid coverage, opens a grid and sees its owner form', async () => {
  const page = await newPage(DESKTOP);
  try {
    await signIn(page, PASSWORD, 'leader');
    await Promise.all([page.waitForURL(/\/grids$/), page.click('nav a[href="/grids"]')]);
    assert.match(await page.locator('#coverage-summary').innerText(), /网格 \d{5}/);
    await page.screenshot({ path: SHOTS + 'grids-city.png' });
    await Promise.all([page.waitForURL(/territory=320613007000/), page.click('#streets a:has-text("钟秀街道")')]);
    assert.ok(await page.locator('#loads tbody tr').count() >= 3, 'each of the squad\'s officers has a load');
    assert.ok(await page.locator('#uncovered-none').isVisible(), 'the demo grids cover their communities');
    await page.screenshot({ path: SHOTS + 'grids-street.png', fullPage: true });
    const code = (await page.locator('#loads tbody tr').first().innerText()).split(/\s+/)[0];
    assert.match(code, /^NT\d{4}$/);
    await page.goto(BASE + '/grids/3206130070010001');
    assert.match(await page.locator('#owner').innerText(), /钟秀街道综合行政执法队/);
    assert.ok(await page.locator('#owner-form').isVisible());
    await page.screenshot({ path: SHOTS + 'grid.png', fullPage: true });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});
