// `cratekeeper policy list|set|unset|hold|unhold|release|unrelease`: the supply-chain policy for
// administrators, on the same database as `serve` (while it runs: every replica follows the change
// within its poll interval). Added to the `policy` command the client toolkit registers (which has
// `policy check`). Each change is audited as from the command line.

import type { Command } from 'commander';
import { helpExamples } from '@cratekeeper/client/commands';
import type { Policy } from '../src/policy/open-policy.js';
import type { CommonOptions } from './server-actions.js';

const actions = () => import('./server-actions.js');

const CLI = { audit: { principal: null, ip: null, userAgent: 'cratekeeper cli' }, login: null };

interface ExceptionOptions extends CommonOptions {
  reason?: string;
  source?: string;
  expiresIn?: string;
}

export function registerPolicyCommands(program: Command, withCommonOptions: (command: Command) => Command): void {
  const policy = program.commands.find((c) => c.name() === 'policy') ?? program.command('policy');
  const run = (options: CommonOptions, work: (p: Policy) => Promise<void>) =>
    actions().then((a) => a.withRegistry(options, (registry) => work(registry.supplyChain)));

  withCommonOptions(policy.command('list').description('show the policy settings per source, and the holds and early releases in force'))
    .option('--json', 'as JSON')
    .addHelpText('after', helpExamples('cratekeeper policy list --config /etc/cratekeeper.toml'))
    .action((options: CommonOptions & { json?: boolean }) =>
      run(options, async (p) => {
        const settings = p.admin.settings();
        const exceptions = p.admin.exceptions();
        if (options.json) return void console.log(JSON.stringify({ settings, exceptions }, null, 2));
        for (const s of settings) {
          const entries = Object.entries(s.effective).map(([k, v]) => `${k}=${v}${k in s.stored ? '' : ' (config)'}`);
          console.log(`${s.source}: ${entries.length === 0 ? 'no settings' : entries.join(', ')}`);
        }
        if (exceptions.length === 0) console.log('no holds or early releases');
        for (const e of exceptions) {
          const what = `${e.crate}${e.version === null ? '' : `@${e.version}`}`;
          const source = e.source === null ? 'every source' : e.source.replace(/^upstream:/, '');
          const until = e.expiresAt === null ? '' : ` until ${e.expiresAt}`;
          console.log(`${e.kind} ${what} (${source})${until} by ${e.createdBy ?? 'cli'}: ${e.reason}`);
        }
      }),
    );

  withCommonOptions(
    policy.command('set <source> <key> <value>').description("set a policy setting of a source (`local` or an upstream's name)"),
  )
    .addHelpText(
      'after',
      helpExamples('cratekeeper policy set crates-io min_release_age 3d', 'cratekeeper policy set local advisories deny'),
    )
    .action((source: string, key: string, value: string, options: CommonOptions) =>
      run(options, async (p) => console.log(`${source} ${key} = ${await p.admin.set(CLI, source, key, value)}`)),
    );

  withCommonOptions(
    policy.command('unset <source> <key>').description("remove a source's setting (the configuration file's applies again)"),
  )
    .addHelpText('after', helpExamples('cratekeeper policy unset crates-io min_release_age'))
    .action((source: string, key: string, options: CommonOptions) =>
      run(options, async (p) =>
        console.log((await p.admin.unset(CLI, source, key)) ? `unset ${source} ${key}` : `${source} ${key} was not set`),
      ),
    );

  const sourceOption = (c: Command) =>
    c.option('--source <source>', "only from this source (`local` or an upstream's name; default: every source)");

  withCommonOptions(
    sourceOption(policy.command('hold <crate>').description('hold a crate (name) or one version (name@version) back until unheld')),
  )
    .requiredOption('--reason <text>', 'why (shown to cargo and in the audit log)')
    .addHelpText('after', helpExamples('cratekeeper policy hold left-pad@1.3.0 --reason "compromised maintainer account"'))
    .action((spec: string, options: ExceptionOptions) =>
      run(options, async (p) => {
        const e = await p.admin.hold(CLI, spec, options.reason!, options.source);
        console.log(`holding ${e.crate}${e.version === null ? '' : `@${e.version}`}`);
      }),
    );

  withCommonOptions(sourceOption(policy.command('unhold <crate>').description('remove a hold, named as it was made')))
    .addHelpText('after', helpExamples('cratekeeper policy unhold left-pad@1.3.0'))
    .action((spec: string, options: ExceptionOptions) =>
      run(options, async (p) => {
        await p.admin.remove(CLI, 'hold', spec, options.source);
        console.log(`no longer holding ${spec}`);
      }),
    );

  withCommonOptions(sourceOption(policy.command('release <crate@version>').description('let one version out of quarantine early')))
    .requiredOption('--reason <text>', 'why (in the audit log)')
    .option('--expires-in <duration>', 'how long the release lasts, e.g. 7d or 12h', '7d')
    .addHelpText('after', helpExamples('cratekeeper policy release serde@1.0.300 --reason "security fix we need" --expires-in 3d'))
    .action((spec: string, options: ExceptionOptions) =>
      run(options, async (p) => {
        const { duration } = await import('../src/config/fields.js');
        const parsed = duration(1000, 365 * 86_400_000).safeParse(options.expiresIn);
        if (!parsed.success) throw new Error(`--expires-in: expected a duration such as 7d or 12h (got ${options.expiresIn})`);
        const e = await p.admin.release(CLI, spec, options.reason!, parsed.data, options.source);
        console.log(`released ${e.crate}@${e.version} from quarantine until ${e.expiresAt}`);
      }),
    );

  withCommonOptions(sourceOption(policy.command('unrelease <crate@version>').description('withdraw an early release')))
    .addHelpText('after', helpExamples('cratekeeper policy unrelease serde@1.0.300'))
    .action((spec: string, options: ExceptionOptions) =>
      run(options, async (p) => {
        await p.admin.remove(CLI, 'release', spec, options.source);
        console.log(`withdrew the early release of ${spec}`);
      }),
    );
}
