import { defineConfig, mergeConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import viteConfig from './vite.config.ts';
import { browserArgs, findBrowser } from './scripts/find-browser.mjs';

// Two projects: `node` for pure logic, `browser` for everything that touches WebGPU
// (real headless Chromium; SwiftShader on machines without a GPU).
const executablePath = findBrowser() ?? undefined;

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      projects: [
        {
          extends: true,
          test: {
            name: 'node',
            environment: 'node',
            include: ['tests/**/*.test.ts'],
            exclude: ['tests/**/*.browser.test.ts'],
            setupFiles: ['tests/setup/matchers.ts'],
            testTimeout: 60_000,
          },
        },
        {
          extends: true,
          test: {
            name: 'browser',
            include: ['tests/**/*.browser.test.ts'],
            globalSetup: ['tests/setup/require-browser.ts'],
            setupFiles: ['tests/setup/matchers.ts'],
            testTimeout: 180_000,
            hookTimeout: 180_000,
            fileParallelism: false,
            browser: {
              enabled: true,
              headless: true,
              screenshotFailures: false,
              provider: playwright({ launchOptions: { executablePath, args: browserArgs() } }),
              instances: [{ browser: 'chromium' }],
            },
          },
        },
      ],
    },
  }),
);
