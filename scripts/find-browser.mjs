// Finds a Chromium-family browser with WebGPU for tests, benchmarks and the CLI.
// Order: $PLANTUNE_BROWSER, then $CHROME_PATH, then the usual system install paths.
import { existsSync } from 'node:fs';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/microsoft-edge',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
  'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
];

/** @returns {string | null} absolute path of a browser executable, or null when none is found */
export function findBrowser() {
  for (const env of ['PLANTUNE_BROWSER', 'CHROME_PATH']) {
    const p = process.env[env];
    if (p) {
      if (!existsSync(p)) throw new Error(`${env}=${p} but no file is there. Point it at a Chrome/Chromium executable.`);
      return p;
    }
  }
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export const NO_BROWSER_MESSAGE = [
  'No Chrome/Chromium browser found for the WebGPU tests.',
  'Install one (Debian/Ubuntu: `sudo apt-get install -y chromium`; macOS/Windows: Google Chrome),',
  'or set PLANTUNE_BROWSER=/path/to/chrome. Looked at: $PLANTUNE_BROWSER, $CHROME_PATH, ' + CANDIDATES.join(', '),
].join('\n');

/** Flags that give WebGPU in headless Chromium; SwiftShader (CPU) when there is no GPU. */
export function browserArgs() {
  const args = [
    '--headless=new',
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ];
  // On a machine without a GPU (CI) use SwiftShader; PLANTUNE_GPU=hardware keeps the real adapter.
  if (process.env.PLANTUNE_GPU !== 'hardware') {
    args.push('--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader');
  }
  return args;
}
