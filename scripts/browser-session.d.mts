import type { Browser } from 'playwright';
export function startBrowserSession(): Promise<{ url: string; browser: Browser; close: () => Promise<void> }>;
