/** A small HTTP client for the public API that routes by prefix, as the ingress does. */
export class CustosClient {
  constructor(
    private readonly route: (path: string) => string,
    private readonly tokenFor: (claims: { sub: string; roles?: string[]; amr?: string[]; email?: string }) => Promise<string>,
  ) {}

  async token(sub: string, roles: string[] = [], amr?: string[]): Promise<string> {
    return this.tokenFor({ sub, roles, amr });
  }

  /** A login's token that carries an address (`email`), where the issuer puts one in (the distributed deployment's test issuer does). */
  async tokenWithEmail(sub: string, email: string, roles: string[] = []): Promise<string> {
    return this.tokenFor({ sub, roles, email });
  }

  async call(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any; headers: Headers; text: string }> {
    const response = await fetch(`${this.route(path)}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (CSV, OpenAPI UI): keep the text
    }
    return { status: response.status, body, headers: response.headers, text };
  }
}
