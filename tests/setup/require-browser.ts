import { findBrowser, NO_BROWSER_MESSAGE } from '../../scripts/find-browser.mjs';

// Runs before the browser project: fail with a plain message instead of a Playwright stack.
export default function requireBrowser(): void {
  if (!findBrowser()) throw new Error(NO_BROWSER_MESSAGE);
}
