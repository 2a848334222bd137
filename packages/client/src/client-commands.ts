// The client toolkit's commands (`credential`, `proxy ...`, `doctor`, `login`, `logout`), registered on a commander program: the
// client's own `cratekeeper-client` (bin.ts) and the server's `cratekeeper`, which imports them from
// this package (`@cratekeeper/client/commands`) so that both offer the same commands.
//
// cargo starts a credential provider as `<program> --cargo-plugin` and passes the words configured
// after the program (`credential-provider = ["cratekeeper", "credential"]`) inside each JSON request,
// not on the command line; so the root command accepts a hidden --cargo-plugin too, and both forms
// speak the same protocol.

import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { rootCertificates as tlsRootCertificates } from 'node:tls';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { authConfigPath, loadAuthConfig } from './auth-config.js';
import { describeClientError, isClientError } from './client-errors.js';
import { loadClientSettings, type ClientArgs } from './client-settings.js';
import { serveCredentialProtocol } from './credential-provider.js';
import { CredentialResolver } from './credential-resolver.js';
import { formatHostPort } from './host-key.js';
import { parseListenAddress } from './listen-address.js';
import { registerSignInCommands } from './sign-in-commands.js';
import { registerDocsCommands } from './docs-upload-command.js';
import { helpExamples as examples } from './help-examples.js';

export { helpExamples } from './help-examples.js';

// The proxy's certificate and connection code is loaded only by the proxy commands: the credential
// provider, which cargo starts for every command, must start fast.
const proxyModules = async () => ({
  ...(await import('./auth-proxy.js')),
  ...(await import('./proxy-ca-store.js')),
  ...(await import('./upstream-connector.js')),
  ...(await import('./x509-builder.js')),
});

// doctor's checks are loaded only when it runs.
const doctorModules = async () => ({
  ...(await import('./doctor/run-doctor.js')),
  ...(await import('./doctor/report.js')),
});

interface ProxyOptions {
  listen: string;
  netrc?: string;
  authConfig?: string;
  allowInsecureNetrc?: boolean;
  caDir?: string;
  upstreamProxy?: string;
  originCa: string[];
  allowRemoteClients?: boolean;
}

interface InitCaOptions {
  caDir?: string;
  authConfig?: string;
  host: string[];
  force?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Whether a CA constrained to `permitted` can vouch for `host` (the rules of RFC 5280 name constraints). */
function caCovers(permitted: { dns: string[]; ip: string[] }, host: string): boolean {
  if (isIP(host) !== 0) return permitted.ip.some((range) => range === `${host}/${isIP(host) === 4 ? 32 : 128}`);
  return permitted.dns.some((d) => host === d || host.endsWith(`.${d}`));
}

interface CredentialOptions {
  netrc?: string;
  authConfig?: string;
  allowInsecureNetrc?: boolean;
  login?: string;
  cargoPlugin?: boolean;
}

async function runProvider(options: ClientArgs): Promise<void> {
  if (process.stdin.isTTY) {
    process.stderr.write(
      'cratekeeper credential: this is a cargo credential provider; cargo runs it and talks JSON on stdin/stdout.\n' +
        'Configure it in $CARGO_HOME/config.toml, e.g. credential-provider = ["/path/to/cratekeeper", "credential"]\n',
    );
  }
  process.exitCode = await serveCredentialProtocol(
    { input: process.stdin, output: process.stdout, errors: process.stderr },
    options,
    process.env,
  );
}

/** Runs an action and reports the toolkit's own errors as one line, with exit status 2. */
function reported<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      if (!isClientError(error)) throw error;
      process.stderr.write(`cratekeeper: ${describeClientError(error)}\n`);
      process.exitCode = 2;
    }
  };
}

let roots: string[] | undefined;
function rootCertificatesOnce(): string[] {
  roots ??= [...tlsRootCertificates];
  return roots;
}

export function registerClientCommands(program: Command): void {
  // Examples name the program they are shown by: `cratekeeper` or `cratekeeper-client`.
  const me = program.name();
  // Options after a subcommand belong to it (`proxy init-ca --ca-dir X` is init-ca's --ca-dir, not
  // proxy's); commander needs this on every level above such a subcommand.
  program.enablePositionalOptions();
  program
    .addOption(new Option('--cargo-plugin', 'run as a cargo credential provider (cargo passes this)').hideHelp())
    .allowExcessArguments()
    .action(
      reported(async (options: { cargoPlugin?: boolean }, command: Command) => {
        if (options.cargoPlugin) return runProvider({});
        if (command.args.length > 0) program.error(`error: unknown command '${command.args[0]}'`);
        program.help({ error: true });
      }),
    );

  const proxy = program
    .command('proxy')
    .enablePositionalOptions()
    .description("forward proxy that adds the configured hosts' credentials, for tools that cannot send them")
    .option('--listen <address>', 'address to listen on (port 0 picks a free one)', '127.0.0.1:8771')
    .option('--netrc <file>', '.netrc to read (default: $NETRC, then ~/.netrc)')
    .option('--auth-config <file>', 'auth patterns file; its hosts are the ones intercepted')
    .option('--allow-insecure-netrc', 'use a .netrc that group or others can read')
    .option('--ca-dir <dir>', 'folder of the proxy CA (default: ~/.config/cratekeeper/proxy)')
    .option('--upstream-proxy <url>', 'send outgoing connections through http://host:port or socks5://host:port')
    .option('--origin-ca <file>', 'also trust this CA for the registries themselves (repeatable)', collect, [])
    .option('--allow-remote-clients', 'listen on a non-loopback address (anyone who reaches it gets your credentials)')
    .addHelpText(
      'after',
      examples(
        `${me} proxy init-ca`,
        `${me} proxy --listen 127.0.0.1:8771 &`,
        'HTTPS_PROXY=http://127.0.0.1:8771 curl --cacert ~/.config/cratekeeper/proxy/ca.pem https://crates.example.com/index/config.json',
      ),
    )
    .action(
      reported(async (options: ProxyOptions) => {
        const listen = parseListenAddress(options.listen);
        const loopback = listen.host === 'localhost' || listen.host === '::1' || listen.host.startsWith('127.');
        if (!loopback && !options.allowRemoteClients) {
          program.error(
            `error: --listen ${options.listen} is not a loopback address; every client of the proxy uses your credentials (pass --allow-remote-clients if you mean it)`,
          );
        }
        const settings = loadClientSettings(
          { netrc: options.netrc, authConfig: options.authConfig, allowInsecureNetrc: options.allowInsecureNetrc },
          process.env,
        );
        const { caPaths, loadCa, makeConnector, permittedNames, startAuthProxy } = await proxyModules();
        const log = (line: string) => process.stderr.write(`cratekeeper proxy: ${line}\n`);
        if (settings.config.hosts.length === 0)
          log(`no hosts in ${settings.config.file ?? 'the auth file'}: every connection is tunnelled untouched`);
        const ca = loadCa(caPaths(options.caDir));
        const permitted = permittedNames(ca.certPem);
        for (const host of settings.config.hosts) {
          if (!caCovers(permitted, host.match.host))
            log(
              `warning: the proxy CA is not valid for ${host.match.host}; run \`cratekeeper proxy init-ca --force\` and trust the new ca.pem`,
            );
        }
        const trust =
          options.originCa.length > 0 ? [...rootCertificatesOnce(), ...options.originCa.map((f) => readFileSync(f, 'utf8'))] : undefined;
        const running = await startAuthProxy(
          {
            resolver: new CredentialResolver({ config: settings.config, netrc: settings.netrc }),
            ca,
            connector: makeConnector(options.upstreamProxy),
            trust,
            log,
          },
          listen.host,
          listen.port,
        );
        process.stdout.write(`cratekeeper proxy listening on ${formatHostPort(running.host, running.port)}\n`);
        const stop = () => {
          running.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      }),
    );

  proxy
    .command('init-ca')
    .description('create the proxy CA, name-constrained to the configured hosts, and print where its certificate is')
    .option('--ca-dir <dir>', 'folder for ca.pem and ca-key.pem (default: ~/.config/cratekeeper/proxy)')
    .option('--auth-config <file>', 'auth patterns file whose hosts the CA is constrained to')
    .option('--host <host>', 'another host the CA may issue certificates for (repeatable)', collect, [])
    .option('--force', 'replace an existing CA')
    .addHelpText('after', examples(`${me} proxy init-ca --auth-config ~/.config/cratekeeper/auth.toml --host crates.example.com`))
    .action(
      reported(async (options: InitCaOptions) => {
        const config = loadAuthConfig(authConfigPath(options.authConfig), options.authConfig !== undefined);
        const hosts = [
          ...new Set([...config.hosts.map((h) => h.match.host), ...options.host.map((h) => h.toLowerCase().replace(/^\[(.*)\]$/, '$1'))]),
        ];
        const { caPaths, initCa } = await proxyModules();
        const paths = caPaths(options.caDir);
        await initCa(paths, hosts, options.force === true);
        process.stdout.write(
          `created a proxy CA valid only for: ${hosts.join(', ')}\n` +
            `certificate: ${paths.cert}\n` +
            `private key: ${paths.key} (mode 0600)\n` +
            `trust it with: cargo http.cainfo / CARGO_HTTP_CAINFO, git -c http.sslCAInfo=..., curl --cacert ...\n`,
        );
      }),
    );

  program
    .command('doctor')
    .description("check cargo's setup for a registry and say what to fix (exit 1 when something is broken)")
    .option('--registry <name>', "check only this registry (default: every registry in cargo's configuration)")
    .option('--project <dir>', 'the project folder whose .cargo/config.toml files count (default: the current folder)')
    .addHelpText('after', examples(`${me} doctor --registry mycompany --project ~/src/app`))
    .action(
      reported(async (options: { registry?: string; project?: string }) => {
        const { runDoctor, formatReport, exitCodeOf } = await doctorModules();
        const findings = await runDoctor({ registry: options.registry, project: resolve(options.project ?? '.'), env: process.env });
        process.stdout.write(formatReport(findings));
        process.exitCode = exitCodeOf(findings);
      }),
    );

  // The server's `cratekeeper policy` adds its administrators' subcommands to this same command.
  program
    .command('policy')
    .description("the registry's supply-chain policy")
    .addHelpText('after', examples(`${me} policy check Cargo.lock --registry https://crates.example.com`))
    .command('check <lockfile>')
    .description('say which packages of a Cargo.lock the registry denies (quarantine, holds, advisories, licences); exit 1 if any')
    .requiredOption('--registry <url>', "the registry's URL, e.g. https://crates.example.com")
    .option('--token-env <name>', 'environment variable holding a token with the read scope', 'CRATEKEEPER_TOKEN')
    .option(
      '--replace <source=index>',
      "a source the lockfile names that this registry replaces ([source] replace-with), and the registry's index that does; repeatable " +
        "(crates.io's is mapped to the registry's upstream of crates.io without it)",
      (value: string, list: string[]) => [...list, value],
      [] as string[],
    )
    .addHelpText(
      'after',
      examples(
        `CRATEKEEPER_TOKEN=... ${me} policy check Cargo.lock --registry https://crates.example.com`,
        `${me} policy check Cargo.lock --registry https://crates.example.com --replace sparse+https://git.example.com/index/=sparse+https://crates.example.com/mirrors/gitea/index/`,
      ),
    )
    .action(async (lockfile: string, options: { registry: string; tokenEnv: string; replace: string[] }) => {
      const { parseReplacement, policyCheck, PolicyCheckError } = await import('./policy-check.js');
      try {
        const replacements = new Map(options.replace.map(parseReplacement));
        const { lines, exitCode } = await policyCheck(lockfile, {
          registry: options.registry,
          token: process.env[options.tokenEnv],
          replacements,
        });
        process.stdout.write(lines.map((l) => `${l}\n`).join(''));
        process.exitCode = exitCode;
      } catch (error) {
        if (!(error instanceof PolicyCheckError)) throw error;
        process.stderr.write(`cratekeeper: ${error.message}\n`);
        process.exitCode = 2;
      }
    });

  program
    .command('credential')
    .description("cargo credential provider: answers cargo's token requests from ~/.netrc and the auth file")
    .option('--netrc <file>', '.netrc to read and write (default: $NETRC, then ~/.netrc)')
    .option('--auth-config <file>', 'auth patterns file (default: $CRATEKEEPER_AUTH_CONFIG, then ~/.config/cratekeeper/auth.toml)')
    .option('--allow-insecure-netrc', 'use a .netrc that group or others can read')
    .option('--login <name>', 'login written into new .netrc entries by cargo login', undefined)
    .option('--cargo-plugin', 'speak the credential provider protocol (cargo passes this)')
    .addHelpText(
      'after',
      '\nExample (cargo runs it; in ~/.cargo/config.toml):\n' +
        `  [registries.private]\n  credential-provider = ["${me}", "credential", "--netrc", "/home/me/.netrc"]\n` +
        '  $ cargo login --registry private',
    )
    .action(
      reported(async (options: CredentialOptions) => {
        await runProvider({
          netrc: options.netrc,
          authConfig: options.authConfig,
          allowInsecureNetrc: options.allowInsecureNetrc,
          login: options.login,
        });
      }),
    );

  registerSignInCommands(program, reported);
  registerDocsCommands(program, reported);
}
