import { UNAUTHORIZED } from './notice.js';
import { askForToken, authorizedHeaders } from './token.js';

/** Calls the API; resolves with the JSON body (null for 204), rejects with the API's error message. */
export async function api<Body>(method: string, path: string, body?: unknown): Promise<Body> {
  const response = await fetch(path, {
    method,
    headers: authorizedHeaders(
      body === undefined
        ? { Accept: 'application/json' }
        : { Accept: 'application/json', 'Content-Type': 'application/json' },
    ),
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (response.status === 401) {
    askForToken('The token was refused; enter it again.');
    throw new Error(UNAUTHORIZED);
  }
  if (response.status === 204) return null as Body;
  const data = (await response.json().catch(() => null)) as {
    error?: { message: string };
  } | null;
  if (!response.ok) throw new Error(data?.error ? data.error.message : 'HTTP ' + response.status);
  return data as Body;
}

/** The API path of an agent. */
export function agentPath(agentId: string): string {
  return '/api/agents/' + encodeURIComponent(agentId);
}
