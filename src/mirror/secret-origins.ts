// Which origins (scheme, host, port) may receive an upstream's secrets: its credentials (`auth`) and
// its extra headers (`headers.*`). Only the origin of its index_url, plus the origins an
// administrator lists in `credential_origins`; never a host merely because the upstream's
// config.json `dl` or a redirect points there (that host gets a plain request).

export class SecretOrigins {
  /** The origin of the upstream's index_url: the credentials are looked up for it. */
  readonly home: string;
  private readonly allowed: Set<string>;

  constructor(indexUrl: string, extraOrigins: readonly string[] = []) {
    this.home = new URL(indexUrl).origin;
    this.allowed = new Set([this.home, ...extraOrigins.map((o) => new URL(o).origin)]);
  }

  /** Whether a request to `url` may carry the upstream's credentials and extra headers. */
  allows(url: URL): boolean {
    return this.allowed.has(url.origin);
  }

  /**
   * The same path on the home origin: the URL the credentials are resolved for, so that a listed
   * extra origin gets the upstream's own credentials (the resolver knows only the home host).
   */
  onHome(url: URL): URL {
    return new URL(url.pathname + url.search, this.home);
  }
}
