// An ordinary-procedure case end to end in a real browser, against a running demo server: an officer
// proposes it → the leader approves and assigns two investigators → the officer registers evidence and a
// record of inquiry and gives prior notice → the party waives → legal review passes → the leader decides →
// the decision is rendered as a page and as PDF → served, paid, closed and archived. Then a summary decision
// on a phone, refused over the Art. 51 limit and made within it. Screenshots of each step.
//   GRIDWARD_DEMO_PASSWORD=… [GRIDWARD_URL=http://127.0.0.1:8080] npm test
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { BASE, PASSWORD, SHOTS, PHOTO, DESKTOP, PHONE, launch, openPage, signInAs } from './browser.mjs';

let browser;

before(async () => {
  assert.ok(PASSWORD, 'GRIDWARD_DEMO_PASSWORD is not set');
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function as(user, options = DESKTOP) {
  const page = await openPage(browser, options);
  await signInAs(page, user);
  return page;
}

// Submits the workspace form of `step`, after `fill` has filled it, and waits for the page to come back.
async function takeStep(page, step, fill = async () => {}) {
  const form = page.locator(`#step-${step}`);
  await form.waitFor();
  await fill(form);
  await Promise.all([page.waitForURL(/\/cases\/\d+(\?done=\w+)?$/), form.locator('button[type=submit]').click()]);
  const notice = await page.locator('#notice').innerText();
  assert.ok(notice.includes('✓'), `${step}: ${notice}`);
}

test('an ordinary case runs from proposal to archive, with its documents as pages and PDF', async () => {
  // 1. The officer proposes the case.
  const officer = await as('officer.zhongxiu');
  await officer.goto(BASE + '/cases/new');
  await officer.selectOption('#power', 'srhw.34.1.4');
  await officer.check('input[name=party_kind][value=organisation]');
  await officer.fill('#party-name', '南通某某小吃店');
  await officer.fill('#party-id', '91350100M000100Y43');
  await officer.fill('#party-address', '南通市崇川区钟秀街道钟秀中路88号');
  await officer.fill('#party-rep', '陈海燕');
  await officer.fill('#facts', '在店门口公共通道堆放餐厨垃圾，经劝阻未清理');
  await officer.screenshot({ path: SHOTS + 'case-1-propose.png', fullPage: true });
  await Promise.all([officer.waitForURL(/\/cases\/\d+$/), officer.click('#case-submit')]);
  const url = officer.url();
  assert.equal(await officer.locator('#case-stage').innerText(), '立案审批');
  // The officer cannot approve, and the page says why, with the article.
  await officer.locator('#closed-steps summary').click();
  assert.match(await officer.locator('#closed-steps li[data-step=approve_opening]').innerText(), /负责人.*Art\. 57/);

  // 2. The leader approves and assigns two investigators.
  const leader = await as('leader');
  await leader.goto(url);
  await takeStep(leader, 'approve_opening');
  await takeStep(leader, 'assign_investigators', async (form) => {
    const boxes = form.locator('input[name=investigator]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
  });
  assert.match(await leader.locator('#case-investigators').innerText(), /、/);
  assert.equal(await leader.locator('#case-stage').innerText(), '调查取证');
  await leader.screenshot({ path: SHOTS + 'case-2-approved.png', fullPage: true });

  // 3. The officer investigates and gives prior notice; a decision before the party answers is refused.
  await officer.goto(url);
  // The photo goes into the evidence store first, then is registered with its Art. 46 kind.
  await officer.setInputFiles('#evidence-file', PHOTO);
  await Promise.all([officer.waitForURL(/done=upload_evidence$/), officer.click('#evidence-upload button[type=submit]')]);
  assert.match(await officer.locator('#case-files').innerText(), /未登记/);
  await takeStep(officer, 'add_evidence', async (form) => {
    await form.locator('select[name=evidence_id]').selectOption({ index: 1 });
    await form.locator('select[name=category]').selectOption('audio_visual');
    await form.locator('input[name=description]').fill('现场照片三张、执法记录仪视频一段');
  });
  assert.match(await officer.locator('#case-files').innerText(), /已登记/);
  await takeStep(officer, 'record_inquiry', (form) => form.locator('textarea[name=summary]').fill('询问店主陈海燕，其承认堆放餐厨垃圾'));
  await takeStep(officer, 'give_notice', async (form) => {
    await form.locator('input[name=penalty_amount]').first().fill('2000');
    await form.locator('input[name=basis]').fill('《城市市容和环境卫生管理条例》第三十四条第（四）项');
  });
  assert.equal(await officer.locator('#case-stage').innerText(), '告知与申辩');
  assert.match(await officer.locator('#case-deadlines').innerText(), /陈述申辩、申请听证期限/);
  await officer.screenshot({ path: SHOTS + 'case-3-notified.png', fullPage: true });
  await leader.goto(url);
  await leader.locator('#closed-steps summary').click();
  assert.match(await leader.locator('#closed-steps li[data-step=decide]').innerText(), /期限尚未届满/);
  await officer.goto(url);
  await takeStep(officer, 'waive_rights');

  // 4. Legal review passes; the leader decides.
  const legal = await as('legal');
  await legal.goto(url);
  await takeStep(legal, 'legal_review', (form) => form.locator('textarea[name=opinion]').fill('事实清楚，证据确凿，适用依据正确，程序合法'));
  await leader.goto(url);
  await takeStep(leader, 'decide', async (form) => {
    await form.locator('select[name=outcome]').selectOption('penalty');
    await form.locator('textarea[name=reasons]').fill('当事人违法事实清楚，证据确凿，依法予以处罚');
  });
  assert.equal(await leader.locator('#case-stage').innerText(), '已决定');
  assert.match(await leader.locator('#case-decision').innerText(), /罚款 2000元/);
  await leader.screenshot({ path: SHOTS + 'case-4-decided.png', fullPage: true });

  // 5. The decision document: every Art. 59 field on the page, and the same as PDF in a Chinese font.
  const href = await leader.locator('#case-documents a[data-kind=decision]').getAttribute('href');
  await leader.goto(BASE + href);
  const text = await leader.locator('#document').innerText();
  for (const field of ['行政处罚决定书', '南通某某小吃店', '91350100M000100Y43', '违法事实', '处罚依据', '罚款 2000元', '十五日内', '百分之三', '六十日内', '行政诉讼', '（印章）']) {
    assert.ok(text.includes(field), `the decision lacks ${field}`);
  }
  assert.match(await leader.locator('#document-number').innerText(), /^钟秀综执罚决〔\d{4}〕\d+号$/);
  await leader.screenshot({ path: SHOTS + 'case-5-decision.png', fullPage: true });
  const pdf = await leader.request.get(BASE + href + '/pdf');
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  const bytes = await pdf.body();
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  writeFileSync(SHOTS + 'case-decision.pdf', bytes);
  if (existsSync('/usr/bin/pdftotext')) {
    const extracted = execFileSync('pdftotext', ['-layout', SHOTS + 'case-decision.pdf', '-']).toString();
    for (const field of ['行政处罚决定书', '南通某某小吃店', '百分之三']) assert.ok(extracted.includes(field), `the PDF lacks ${field}`);
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', SHOTS + 'case-decision.pdf', SHOTS + 'case-6-decision-pdf']);
  }

  // 6. Served on the spot, paid, closed and archived.
  await officer.goto(url);
  await takeStep(officer, 'serve', (form) => form.locator('select[name=method]').selectOption('on_the_spot'));
  await takeStep(officer, 'record_payment', (form) => form.locator('input[name=receipt]').fill('NT-2026-009001'));
  await leader.goto(url);
  await takeStep(leader, 'close', (form) => form.locator('textarea[name=summary]').fill('罚款已缴清，垃圾已清理，结案'));
  await takeStep(leader, 'archive');
  assert.equal(await leader.locator('#case-stage').innerText(), '归档');
  const kinds = await leader.locator('#case-documents a').evaluateAll((as) => as.map((a) => a.dataset.kind));
  assert.deepEqual(kinds, ['filing_approval', 'prior_notice', 'decision', 'service_receipt', 'closing_report']);
  assert.ok((await leader.locator('#case-timeline li').count()) >= 13);
  await leader.screenshot({ path: SHOTS + 'case-7-archived.png', fullPage: true });

  // The auxiliary sees the case with the party's details masked... an organisation's code is public; the
  // representative's name is not.
  const auxiliary = await as('auxiliary.zhongxiu');
  await auxiliary.goto(url);
  assert.match(await auxiliary.locator('#case-party').innerText(), /已脱敏/);
  for (const page of [officer, leader, legal, auxiliary]) assert.deepEqual(page.problems.filter((p) => !p.startsWith('HTTP 409')), []);
});

test('a summary decision on a phone: refused over the limit, made within it', async () => {
  const officer = await as('officer.zhongxiu', PHONE);
  const fill = async (fine) => {
    await officer.goto(BASE + '/cases/new?procedure=summary');
    await officer.selectOption('#power', 'srhw.34.1.4');
    await officer.fill('#party-name', '周建国');
    await officer.fill('#party-id', '11010519491231002X');
    await officer.fill('#party-address', '南通市崇川区钟秀街道城港路');
    await officer.fill('#facts', '在人行道随意倾倒生活垃圾');
    await officer.fill('#fine', String(fine));
    await officer.fill('#form-number', 'NT-JY-' + fine);
  };
  await fill(201);
  await officer.click('#case-submit');
  await officer.waitForSelector('#form-error');
  assert.match(await officer.locator('#form-error').innerText(), /超出简易程序罚款限额.*Art\. 51/);
  await officer.screenshot({ path: SHOTS + 'case-8-summary-refused.png', fullPage: true });
  await fill(50);
  await officer.check('input[name=collected_on_spot]');
  await Promise.all([officer.waitForURL(/\/cases\/\d+$/), officer.click('#case-submit')]);
  assert.equal(await officer.locator('#case-stage').innerText(), '执行');
  assert.match(await officer.locator('#case-documents').innerText(), /当场行政处罚决定书/);
  await officer.screenshot({ path: SHOTS + 'case-9-summary-phone.png', fullPage: true });
  assert.deepEqual(officer.problems.filter((p) => !p.startsWith('HTTP 409')), []);
});

test('the procuratorate watches transfers and penalised cases with signs of a crime; the public reads published decisions', async () => {
  const procurator = await as('procurator');
  await procurator.goto(BASE + '/cases');
  const rows = await procurator.locator('#cases tbody tr').count();
  assert.ok(rows >= 2, `the demo's watched cases: ${rows}`);
  assert.match(await procurator.locator('#cases').innerText(), /已移送/);
  assert.match(await procurator.locator('#cases').innerText(), /有犯罪线索未移送/);
  await procurator.screenshot({ path: SHOTS + 'case-10-procuratorate.png', fullPage: true });
  const transferred = procurator.locator('#cases tbody tr', { hasText: '已移送' }).first().locator('a');
  await Promise.all([procurator.waitForURL(/\/cases\/\d+$/), transferred.click()]);
  assert.match(await procurator.locator('#case-transfer').innerText(), /南通市公安局崇川分局/);
  assert.match(await procurator.locator('#case-documents').innerText(), /涉嫌犯罪案件移送书/);
  assert.equal(await procurator.locator('#next-steps form').count(), 0, 'read-only');
  await procurator.screenshot({ path: SHOTS + 'case-11-transfer.png', fullPage: true });

  const citizen = await openPage(browser, PHONE);
  await citizen.goto(BASE + '/decisions');
  const text = await citizen.locator('#decisions').innerText();
  assert.match(text, /行政处罚|罚款/);
  assert.ok(!/11010519491231002X|320612198001010016/.test(text), 'no citizen ID number is published');
  await citizen.screenshot({ path: SHOTS + 'case-12-published.png', fullPage: true });
  assert.deepEqual([...procurator.problems, ...citizen.problems], []);
});
