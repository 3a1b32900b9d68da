import { it } from 'vitest';
import { startAdminServer } from '../../main/headless/http-server.js';
import { createFake } from './fake-handlers.js';
import { launchBrowser, openPage, openTab, STATIC_DIR } from './harness.js';
const TOKEN = 'fake-token-0123456789abcdefghijklmnopqrstuv';
it('shoots', async () => {
  const fake = createFake();
  const s = await startAdminServer({ handlers: fake.handlers, subscribe: fake.subscribe, host: '127.0.0.1', port: 0, token: TOKEN, staticDir: STATIC_DIR });
  const browser = await launchBrowser();
  const sizes = [['1280', 1280, 800, 1], ['800', 800, 600, 1], ['150', 911, 512, 1.5]] as const;
  const tabs = (process.env.TABS ?? 'ダッシュボード').split(',');
  for (const [name, w, h, scale] of sizes) {
    const { page, problems, context } = await openPage(browser, `${s.url}/#token=${TOKEN}`, { locale: (process.env.LANG_UI as 'ja' | 'en') ?? 'ja', width: w, height: h, scale });
    await page.getByTestId('service-state').waitFor();
    for (const tab of tabs) {
      await openTab(page, tab);
      await page.waitForTimeout(800);
      await page.screenshot({ path: `/tmp/shots/${name}-${tab}.png` });
      if (process.env.TL && tab === 'ライブログ') {
        await page.getByTestId('open-timeline').first().click();
        await page.getByTestId('timeline').waitFor();
        await page.screenshot({ path: `/tmp/shots/${name}-timeline.png` });
        await page.keyboard.press('Escape');
      }
    }
    console.log(name, problems);
    await context.close();
  }
  await browser.close();
  await s.close();
}, 120_000);
