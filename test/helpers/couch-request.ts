// One JSON request to a CouchDB-protocol server, for tests that set up databases and replications by hand (as an
// operator with curl would): the parsed answer, or an error naming the request and what the server said.

export async function couchRequest<T>(url: string, method = 'GET', body?: unknown): Promise<T> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await response.json()) as T;
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}
