export function adminUrl(serverUrl: string): string;
export function withDatabase(serverUrl: string, database: string): string;
export function dropStaleTestDatabases(serverUrl: string): Promise<void>;
