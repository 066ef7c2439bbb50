export function findBrowser(): string | null;
export const NO_BROWSER_MESSAGE: string;
export function browserArgs(): string[];
