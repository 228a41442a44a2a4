export function inputsFile(bundle: string): string;
export function isStale(bundle: string): boolean;
