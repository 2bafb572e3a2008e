// A public report through the seven steps, in a real browser, against a running demo server:
// a citizen reports at a point in 钟秀街道 on a phone → the dispatcher sees it routed to 钟秀街道's squad and
// dispatches it → the officer handles it on a phone with a photo → the supervisor checks and closes it →
// the citizen's ticket page shows it closed with the after-photo. Screenshots of each step.
//   GRIDWARD_DEMO_PASSWORD=… [GRIDWARD_URL=http://127.0.0.1:8080] npm test
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, SHOTS, PHOTO, DESKTOP, PHONE, launch, openPage, signInAs } from './browser.mjs';

const SQUAD = '钟秀街道综合行政执法队';

let browser;

before(async () => {
  assert.ok(PASSWORD, 'GRIDWARD_DEMO_PASSWORD is not set');
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

const newPage = (options) => openPage(browser, options);
const signIn = (page, user) => signInAs(page, user);

test('a citizen\'s report goes through the seven steps and the citizen sees it closed', async () => {
  // Where to report: the middle of one of 钟秀街道's grids (GCJ-02, as the map draws), read as staff.
  const looker = await newPage(DESKTOP);
  await signIn(looker, 'officer.zhongxiu');
  const point = await looker.evaluate(async () => {
    const fc = await (await fetch('/api/v1/grids?territory=320613007000')).json();
    const ring = fc.features[Math.floor(fc.features.length / 3)].geometry.coordinates[0][0].slice(1);
    return { lng: ring.reduce((s, c) => s + c[0], 0) / ring.length, lat: ring.reduce((s, c) => s + c[1], 0) / ring.length };
  });
  await looker.context().close();

  // 1. The citizen, on a phone, without an account.
  const citizen = await newPage(PHONE);
  await citizen.goto(BASE + '/report');
  await citizen.waitForSelector('body[data-pin-ready]', { state: 'attached' });
  await citizen.selectOption('#service_code', '0101');
  await citizen.evaluate(({ lat, lng }) => window.gridwardPinMap.setView([lat, lng], 17, { animate: false }), point);
  const at = await citizen.evaluate(({ lat, lng }) => {
    const p = window.gridwardPinMap.latLngToContainerPoint([lat, lng]);
    const r = window.gridwardPinMap.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, point);
  await citizen.mouse.click(at.x, at.y);
  assert.match(await citizen.locator('#pin-status').innerText(), /gcj02/);
  await citizen.fill('#description', '小区门口堆放大量生活垃圾，已有异味');
  await citizen.selectOption('#severity', 'serious');
  await citizen.setInputFiles('#photo', PHOTO);
  await citizen.fill('#name', '王小明');
  await citizen.fill('#phone', '13812345678');
  await citizen.screenshot({ path: SHOTS + 'report-1-form.png', fullPage: true });
  await Promise.all([citizen.waitForURL(/\/reports\/t\/[0-9a-f]{32}\?new=1$/), citizen.click('#submit-report')]);
  const ticketUrl = citizen.url().replace(/\?new=1$/, '');
  const id = (await citizen.locator('#ticket-number').innerText()).trim();
  assert.match(id, /^\d+$/);
  assert.match(await citizen.locator('.notice-box').innerText(), /已收到/);
  await citizen.screenshot({ path: SHOTS + 'report-2-ticket.png', fullPage: true });
  assert.deepEqual(citizen.problems, []);

  // 2. The dispatcher sees it routed to 钟秀街道's squad, verifies it and dispatches it there.
  const dispatcher = await newPage(DESKTOP);
  await signIn(dispatcher, 'dispatcher');
  await dispatcher.goto(BASE + '/queue');
  const row = dispatcher.locator(`#queue tr[data-report="${id}"]`);
  assert.match(await row.innerText(), new RegExp(SQUAD));
  await dispatcher.screenshot({ path: SHOTS + 'report-3-dispatcher-queue.png', fullPage: true });
  await Promise.all([dispatcher.waitForURL(new RegExp(`/work/${id}$`)), row.locator('a').first().click()]);
  assert.match(await dispatcher.locator('dd').filter({ hasText: '13812345678' }).innerText(), /王小明/, 'the dispatcher sees who reported');
  await Promise.all([dispatcher.waitForURL(/done=verify/), dispatcher.click('#form-verify button')]);
  assert.equal(await dispatcher.locator('#dispatch-squad option').first().innerText(), SQUAD, 'the routed squad comes first');
  await Promise.all([dispatcher.waitForURL(/done=dispatch/), dispatcher.click('#form-dispatch button')]);
  assert.match(await dispatcher.locator('#work-squad').innerText(), new RegExp(SQUAD));
  await dispatcher.screenshot({ path: SHOTS + 'report-4-dispatched.png', fullPage: true });
  assert.deepEqual(dispatcher.problems, []);
  await dispatcher.context().close();

  // 3. The officer, on a phone: the task is on the map and in the list; a photo, then handled.
  const officer = await newPage(PHONE);
  await signIn(officer, 'officer.zhongxiu');
  await officer.goto(BASE + '/tasks/map');
  await officer.waitForSelector('.leaflet-interactive');
  await officer.screenshot({ path: SHOTS + 'report-5-officer-map.png' });
  await officer.goto(BASE + '/queue?queue=tasks');
  await Promise.all([officer.waitForURL(new RegExp(`/work/${id}$`)), officer.locator(`#queue tr[data-report="${id}"] a`).first().click()]);
  assert.match(await officer.locator('dd').filter({ hasText: '138' }).innerText(), /138\*\*\*\*5678/, 'the officer sees a masked number');
  await officer.setInputFiles('#photo-file', PHOTO);
  await Promise.all([officer.waitForURL(/done=photo/), officer.click('#photo-form button')]);
  await officer.fill('#handle-note', '垃圾已全部清运，现场已冲洗');
  await Promise.all([officer.waitForURL(/done=handle/), officer.click('#form-handle button')]);
  await officer.screenshot({ path: SHOTS + 'report-6-handled.png', fullPage: true });
  assert.deepEqual(officer.problems, []);
  await officer.context().close();

  // 4. The supervisor checks on site and closes it.
  const supervisor = await newPage(PHONE);
  await signIn(supervisor, 'supervisor');
  await supervisor.goto(BASE + '/queue');
  await Promise.all([supervisor.waitForURL(new RegExp(`/work/${id}$`)), supervisor.locator(`#queue tr[data-report="${id}"] a`).first().click()]);
  await supervisor.fill('#close-note', '现场核查，已清理干净');
  await Promise.all([supervisor.waitForURL(/done=close/), supervisor.click('#form-close button')]);
  assert.match(await supervisor.locator('#history').innerText(), /核查结案/);
  await supervisor.screenshot({ path: SHOTS + 'report-7-closed.png', fullPage: true });
  assert.deepEqual(supervisor.problems, []);
  await supervisor.context().close();

  // 5. The citizen's ticket page: closed, the responsible squad, the after-photo, the whole progress.
  await citizen.goto(ticketUrl);
  assert.match(await citizen.locator('#report-state').innerText(), /已结案/);
  assert.match(await citizen.locator('#agency').innerText(), new RegExp(SQUAD));
  const after = citizen.locator('img[alt="处置后照片"]');
  assert.equal(await after.count(), 1);
  assert.ok(await after.evaluate((img) => img.complete && img.naturalWidth > 0), 'the after-photo loads');
  assert.match(await citizen.locator('#timeline').innerText(), /处置反馈[\s\S]*核查结案/);
  assert.ok(!(await citizen.content()).includes('13812345678'), 'no phone number on a public page');
  await citizen.screenshot({ path: SHOTS + 'report-8-citizen-closed.png', fullPage: true });
  assert.deepEqual(citizen.problems, []);
  await citizen.context().close();

  // 6. A serious report with a phone number earns a reward; the leader approves it, then marks it paid.
  const leader = await newPage(DESKTOP);
  await signIn(leader, 'leader');
  await leader.goto(BASE + '/rewards');
  const reward = leader.locator(`#reward-decisions tr:has(a[href="/work/${id}"])`);
  assert.match(await reward.innerText(), /13812345678[\s\S]*待审批/);
  await Promise.all([leader.waitForURL(/\/rewards$/), reward.locator('button:has-text("批准")').click()]);
  await Promise.all([leader.waitForURL(/\/rewards$/), leader.locator(`#reward-decisions tr:has(a[href="/work/${id}"]) button:has-text("确认发放")`).click()]);
  assert.match(await leader.locator(`#reward-decisions tr:has(a[href="/work/${id}"])`).innerText(), /已发放/);
  await leader.screenshot({ path: SHOTS + 'report-9-rewards.png', fullPage: true });
  assert.deepEqual(leader.problems, []);
  await leader.context().close();
});

test('anyone reads the reward rules and the monthly statistics, without names', async () => {
  const page = await newPage(PHONE);
  await page.goto(BASE + '/rewards');
  assert.ok(await page.locator('#reward-rules tbody tr').count() >= 1);
  assert.ok(await page.locator('#reward-stats tbody tr').count() >= 1, 'the demo has paid rewards');
  assert.equal(await page.locator('#reward-decisions').count(), 0, 'decisions are for leaders');
  assert.ok(!(await page.content()).includes('1380000'), 'no reporter on the public page');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the report form refuses a place outside the city and says why', async () => {
  const page = await newPage(PHONE);
  await page.goto(BASE + '/report');
  await page.selectOption('#service_code', '0401');
  await page.evaluate(() => {
    document.getElementById('lon').value = '116.39';
    document.getElementById('lat').value = '39.91';
    document.getElementById('datum').value = 'wgs84';
  });
  await page.click('#anonymous');
  assert.ok(await page.locator('#contact').isHidden());
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/report') && r.request().method() === 'POST'), page.click('#submit-report')]);
  assert.equal(response.status(), 400);
  assert.match(await page.locator('.error-box').innerText(), /不在本市/);
});
