// `cratekeeper openapi`: writes the OpenAPI description of the registry's HTTP API (the document a
// server serves at /api/v1/openapi.json) to a file or stdout, for docs to link. Its code loads only
// when it runs.

import { helpExamples } from '@cratekeeper/client/commands';
import type { Command } from 'commander';

interface OpenApiOptions {
  out?: string;
  publicUrl: string;
}

export function registerOpenApiCommand(program: Command): void {
  program
    .command('openapi')
    .description('write the OpenAPI 3.1 description of the HTTP API (as served at /api/v1/openapi.json)')
    .option('-o, --out <file>', 'write it to this file instead of stdout')
    .option('--public-url <url>', "the registry's base URL, for the document's `servers`", 'http://localhost:8000')
    .addHelpText('after', helpExamples('cratekeeper openapi --public-url https://crates.example.com --out docs/openapi.json'))
    .action(async (options: OpenApiOptions) => {
      const { describeApi } = await import('../src/api-description.js');
      const document = await describeApi(options.publicUrl);
      if (options.out === undefined) {
        process.stdout.write(document);
        return;
      }
      const { writeFileSync } = await import('node:fs');
      writeFileSync(options.out, document);
      console.error(`wrote the API description to ${options.out}`);
    });
}
