// The one way a command's --help ends: example command lines, `$ `-prefixed, under "Example:" or
// "Examples:". Shared by the client's commands and the server's `cratekeeper` (through
// `@cratekeeper/client/commands`), so every --help reads alike.

/** The text to add after a command's help (`command.addHelpText('after', helpExamples(...))`). */
export function helpExamples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}
