/** `pnpm report:screenshot <report.html> <out.png>`: a full-page PNG of a report, from headless Chromium. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from './chromium.ts';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: pnpm report:screenshot <report.html> <out.png>');
  process.exit(2);
}
if (!chromiumAvailable()) {
  console.error(`no Chromium at ${CHROMIUM_PATH} (install it, e.g. apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}
// pnpm runs scripts from the repository root; paths are meant relative to where the user typed them
const cwd = process.env.INIT_CWD ?? process.cwd();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(pathToFileURL(path.resolve(cwd, input)).href, { waitUntil: 'load' });
  await page.screenshot({ path: path.resolve(cwd, output), fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
}
